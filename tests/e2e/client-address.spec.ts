import { readFileSync } from 'node:fs';
import { expect, test } from './support/fixtures';
import { PROXIED_APP } from './support/servers';

// PROXIED_APP runs behind ADDRESS_HEADER=x-forwarded-for: a request that skipped the proxy lacks it.
test.use({ baseURL: PROXIED_APP.origin });

const REFUSAL_LOG = 'latchkey: refused a request without the client-address header x-forwarded-for';

function refusalLines(): number {
	return readFileSync(`${PROXIED_APP.dataDir}/server.log`, 'utf8')
		.split('\n')
		.filter((line) => line.includes(REFUSAL_LOG)).length;
}

test('/healthz answers a probe that bypasses the proxy', async ({ request }) => {
	const response = await request.get('/healthz');
	expect(response.status()).toBe(200);
	expect(await response.json()).toEqual({ db: 'ok' });
});

test('any other request without the header gets a plain 400 and one log line naming the header', async ({
	request
}) => {
	const before = refusalLines();
	const response = await request.get('/login');
	expect(response.status()).toBe(400);
	expect(await response.text()).toBe('Missing client address');
	expect(response.headers()['content-type']).toBe('text/plain; charset=utf-8');
	expect(response.headers()['cache-control']).toBe('no-store');
	await expect.poll(refusalLines).toBe(before + 1);

	const post = await request.post('/login?/sendCode', {
		form: { email: 'probe@example.com' },
		headers: { origin: PROXIED_APP.origin }
	});
	expect(post.status()).toBe(400);
	await expect.poll(refusalLines).toBe(before + 2);
	const log = readFileSync(`${PROXIED_APP.dataDir}/server.log`, 'utf8');
	expect(log).not.toContain('unexpected error');
});

test('the same request through the proxy is served', async ({ request }) => {
	const response = await request.get('/login', { headers: { 'x-forwarded-for': '198.51.100.20' } });
	expect(response.status()).toBe(200);
});
