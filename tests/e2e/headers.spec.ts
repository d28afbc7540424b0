import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { PRODUCTION_APP } from './support/servers';
import { signInAs } from './support/sign-in';

test('pages carry a Content-Security-Policy and the security headers', async ({ request }) => {
	const response = await request.get('/login');
	const headers = response.headers();
	expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
	expect(headers['content-security-policy']).toContain("script-src 'self'");
	expect(headers['content-security-policy']).toContain("object-src 'none'");
	expect(headers['x-content-type-options']).toBe('nosniff');
	expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
	expect(headers['x-frame-options']).toBe('DENY');
	// The origin is plain http here: no HSTS, which would make browsers refuse it.
	expect(headers['strict-transport-security']).toBeUndefined();
});

test('every response to a signed-in browser is marked no-store; public ones are not', async ({ page }) => {
	const publicPage = await page.request.get('/');
	expect(publicPage.headers()['cache-control'] ?? '').not.toContain('no-store');

	await signInAs(page, uniqueEmail('no-store'));
	for (const path of ['/', '/account', '/account/sessions', '/account/security']) {
		const response = await page.request.get(path);
		expect(response.headers()['cache-control'], path).toBe('private, no-store');
	}
});

test('/healthz answers 200 with the database status and is never cached', async ({ request }) => {
	const response = await request.get(`${PRODUCTION_APP.origin}/healthz`);
	expect(response.status()).toBe(200);
	expect(await response.json()).toEqual({ db: 'ok' });
	expect(response.headers()['cache-control']).toBe('no-store');
});

test('Better Auth’s JSON endpoints are not served: they would hand tokens to the browser', async ({ page }) => {
	await signInAs(page, uniqueEmail('api-surface'));
	for (const path of ['/api/auth/get-session', '/api/auth/list-sessions', '/api/auth/ok']) {
		const response = await page.request.get(path);
		expect(response.status(), path).toBe(404);
		expect(await response.text()).not.toMatch(/token/i);
	}
	const signIn = await page.request.post('/api/auth/sign-in/email-otp', {
		data: { email: 'someone@example.com', otp: '123456' }
	});
	expect(signIn.status()).toBe(404);
});

test('a page number nobody could reach still gives the security log, not an error', async ({ page }) => {
	await signInAs(page, uniqueEmail('huge-page'));
	for (const page_ of ['99999999999999999999', '-5', 'abc', '1e3']) {
		const response = await page.request.get(`/account/security?page=${page_}`);
		expect(response.status(), page_).toBe(200);
	}
});
