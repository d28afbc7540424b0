import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { get, isSignedIn, post, signIn } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let emails = 0;
const newEmail = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++emails}@example.com`;

/** The id of the session behind a cookie, read from the shared database. */
async function sessionIdOf(url: string, cookie: string): Promise<string> {
	const token = decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		return (await client.query<{ id: string }>('SELECT id FROM session WHERE token = $1', [token])).rows[0]!.id;
	} finally {
		await client.end();
	}
}

describe.each([
	{ name: 'PostgreSQL', redis: false, ports: [4311, 4312], smtp: 2531 },
	{ name: 'PostgreSQL and Redis', redis: true, ports: [4313, 4314], smtp: 2532 }
])('two instances on $name', ({ redis, ports, smtp }) => {
	let scratch: ScratchDatabase;
	let mail: MailSink;
	let a: Instance;
	let b: Instance;
	let url: string;

	beforeAll(async () => {
		scratch = await createScratchDatabase('postgres');
		url = (scratch.target as { url: string }).url;
		mail = await startMailSink(smtp);
		const env = {
			DATABASE_URL: url,
			SMTP_URL: `smtp://127.0.0.1:${smtp}`,
			PURGE_INTERVAL: 'off',
			// The per-IP counters (127.0.0.1) outlive a run in the shared Redis and add up over
			// repeated runs; these tests are about the per-email limit.
			OTP_SEND_LIMIT_PER_IP: '100000',
			OTP_VERIFY_LIMIT_PER_IP: '100000',
			...(redis ? { REDIS_URL } : {})
		};
		[a, b] = await Promise.all([startInstance(ports[0]!, env), startInstance(ports[1]!, env)]);
	});

	afterAll(async () => {
		await Promise.all([a?.stop(), b?.stop()]);
		await mail?.stop();
		await scratch?.drop();
	});

	it('a cookie from A works on B; sign out everywhere on B signs A out on its next request', async () => {
		const email = newEmail('everywhere');
		const first = await signIn(a, mail, email);
		const second = await signIn(a, mail, email);
		expect(await isSignedIn(b, first)).toBe(true);
		expect(await isSignedIn(a, second)).toBe(true);

		const response = await post(b, '/account/sessions?/signOutEverywhere', {}, first);
		expect(response.status).toBe(303);
		expect(response.headers.get('location')).toBe('/login?signedOutEverywhere');

		expect(await isSignedIn(a, first)).toBe(false);
		expect(await isSignedIn(a, second)).toBe(false);
		expect(await isSignedIn(b, second)).toBe(false);
	});

	it('revoking one device on B signs it out on A at once, and leaves the other device in', async () => {
		const email = newEmail('revoke');
		const laptop = await signIn(a, mail, email);
		const phone = await signIn(b, mail, email);
		const response = await post(b, '/account/sessions?/revoke', { sessionId: await sessionIdOf(url, phone) }, laptop);
		expect(response.status).toBe(200);
		expect(await isSignedIn(a, phone)).toBe(false);
		expect(await isSignedIn(a, laptop)).toBe(true);
		expect(await isSignedIn(b, laptop)).toBe(true);
	});

	it('OTP sends for one email spread over A and B stop at the published limit of 5', async () => {
		const email = newEmail('limit');
		const statuses: number[] = [];
		for (let attempt = 0; attempt < 8; attempt++) {
			const instance = attempt % 2 === 0 ? a : b;
			statuses.push((await post(instance, '/login?/sendCode', { email })).status);
		}
		console.log(`OTP sends across two instances (${redis ? 'Redis' : 'database'} counters): ${statuses.join(' ')}`);
		expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
	});

	it('/healthz reports every dependency and is never cached', async () => {
		const response = await get(a, '/healthz');
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual(redis ? { db: 'ok', redis: 'ok' } : { db: 'ok' });
		expect(response.headers.get('cache-control')).toBe('no-store');
	});
});

describe('three instances started together on an empty database', () => {
	let scratch: ScratchDatabase;
	const instances: Instance[] = [];

	beforeAll(async () => {
		scratch = await createScratchDatabase('postgres');
	});

	afterAll(async () => {
		await Promise.all(instances.map((instance) => instance.stop()));
		await scratch?.drop();
	});

	it('migrate the schema once and all serve', async () => {
		const url = (scratch.target as { url: string }).url;
		const env = { DATABASE_URL: url, SMTP_URL: 'smtp://127.0.0.1:2533', PURGE_INTERVAL: 'off' };
		instances.push(...(await Promise.all([4321, 4322, 4323].map((port) => startInstance(port, env)))));
		for (const instance of instances) expect((await get(instance, '/login')).status).toBe(200);

		const client = new pg.Client({ connectionString: url });
		await client.connect();
		const applied = await client.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
		const sessionTables = await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'session'");
		await client.end();
		const { readdirSync } = await import('node:fs');
		const migrations = readdirSync('drizzle/postgres').filter((file) => file.endsWith('.sql')).length;
		console.log(
			`concurrent start: ${instances.length} instances, ${applied.rows[0]!.n} migrations applied of ${migrations}`
		);
		expect(Number(applied.rows[0]!.n)).toBe(migrations);
		expect(sessionTables.rowCount).toBe(1);
	});
});
