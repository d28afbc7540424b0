import type { APIRequestContext, Page } from '@playwright/test';
import { withAppDatabase } from './support/database';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { continueWithProvider, postToProvider, providerSignsIn } from './support/oidc';
import { PRODUCTION_APP, PROXIED_APP, SESSION_COOKIE, SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

function usersWithEmail(email: string) {
	return withAppDatabase(SMTP_APP, (db) =>
		db.prepare<[string], { id: string }>('SELECT id FROM "user" WHERE email = ?').all(email)
	);
}

function oidcAccountsOf(userId: string): number {
	return withAppDatabase(
		SMTP_APP,
		(db) =>
			db
				.prepare<[string], { n: number }>(
					"SELECT count(*) AS n FROM account WHERE user_id = ? AND provider_id = 'oidc'"
				)
				.get(userId)!.n
	);
}

function sessionsOf(userId: string) {
	return withAppDatabase(SMTP_APP, (db) =>
		db
			.prepare<[string], { policy: string; persistent: number }>(
				'SELECT policy, persistent FROM session WHERE user_id = ?'
			)
			.all(userId)
	);
}

async function sessionCookie(page: Page) {
	return (await page.context().cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
}

test('signs in through the OpenID Connect provider and lands on redirectTo; remember-me off', async ({ page }) => {
	const email = uniqueEmail('oidc');
	await providerSignsIn(email);
	await page.goto('/login?redirectTo=%2Faccount');
	await continueWithProvider(page);

	await expect(page).toHaveURL('/account');
	await expect(page.locator('.email')).toHaveText(email);
	const [user] = usersWithEmail(email);
	expect(sessionsOf(user!.id)).toEqual([{ policy: 'standard', persistent: 0 }]);
	expect((await sessionCookie(page))?.expires).toBe(-1);

	await page.goto('/account/security');
	await expect(page.locator('[data-type="SIGN_IN"]')).toContainText('with oidc');
});

test('remember-me carries through the provider: 30-day cookie and remember-me policy', async ({ page }) => {
	const email = uniqueEmail('oidc-remember');
	await providerSignsIn(email);
	await page.goto('/login');
	await continueWithProvider(page, { rememberMe: true });
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();

	const [user] = usersWithEmail(email);
	expect(sessionsOf(user!.id)).toEqual([{ policy: 'remember-me', persistent: 1 }]);
	const expiresIn = (await sessionCookie(page))!.expires - Date.now() / 1000;
	expect(expiresIn).toBeGreaterThan(30 * 24 * 3600 - 120);
	expect(expiresIn).toBeLessThanOrEqual(30 * 24 * 3600 + 5);
});

test('a second sign-in of the same identity reuses the user', async ({ page, context }) => {
	const email = uniqueEmail('oidc-again');
	const identity = await providerSignsIn(email);
	await page.goto('/login');
	await continueWithProvider(page);
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
	await context.clearCookies();

	await postToProvider('/identity', identity);
	await page.goto('/login');
	await continueWithProvider(page);
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
	const users = usersWithEmail(email);
	expect(users).toHaveLength(1);
	expect(oidcAccountsOf(users[0]!.id)).toBe(1);
});

test('a verified provider email signs in to the existing email-code user', async ({ page, context }) => {
	const email = uniqueEmail('link-verified');
	await signInAs(page, email);
	const [otpUser] = usersWithEmail(email);
	await context.clearCookies();

	await providerSignsIn(email, true);
	await page.goto('/login');
	await continueWithProvider(page);
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
	expect(usersWithEmail(email)).toEqual([otpUser]);
	expect(oidcAccountsOf(otpUser!.id)).toBe(1);
});

test('an unverified provider email never links to the existing user', async ({ page, context }) => {
	const email = uniqueEmail('link-unverified');
	await signInAs(page, email);
	const [otpUser] = usersWithEmail(email);
	await context.clearCookies();

	await providerSignsIn(email, false);
	await page.goto('/login?redirectTo=%2Faccount');
	await continueWithProvider(page);
	await expect(page).toHaveURL(/\/login\?redirectTo=%2Faccount&error=account_not_linked/);
	await expect(page.getByRole('alert')).toContainText('did not confirm that this email address is verified');
	expect(usersWithEmail(email)).toEqual([otpUser]);
	expect(oidcAccountsOf(otpUser!.id)).toBe(0);
	expect(await sessionCookie(page)).toBeUndefined();
});

test.describe('failures land on /login with a readable message, never a 5xx', () => {
	test('the user denies consent at the provider', async ({ page }) => {
		await providerSignsIn(uniqueEmail('denied'));
		await postToProvider('/deny');
		await page.goto('/login');
		await continueWithProvider(page);
		await expect(page).toHaveURL(/\/login\?.*error=access_denied/);
		await expect(page.getByRole('alert')).toHaveText('Sign-in was cancelled at the provider. Nothing was changed.');
		expect(await sessionCookie(page)).toBeUndefined();
	});

	test('the state comes back tampered with', async ({ page }) => {
		await providerSignsIn(uniqueEmail('tampered'));
		// Walk the redirects by hand (the browser's cookie jar throughout) to change the state on the way back.
		const start = await page.request.post('/login?/oauth', {
			form: { provider: 'oidc' },
			headers: { origin: SMTP_APP.origin, accept: 'text/html' },
			maxRedirects: 0
		});
		expect(start.status(), await start.text()).toBe(303);
		const approved = await page.request.get(start.headers()['location']!, { maxRedirects: 0 });
		const callback = new URL(approved.headers()['location']!);
		expect(callback.searchParams.get('code')).toBeTruthy();
		callback.searchParams.set('state', 'tampered-state');

		const statuses: number[] = [];
		page.on('response', (response) => statuses.push(response.status()));
		await page.goto(callback.toString());
		await expect(page).toHaveURL(/\/login\?.*error=/);
		await expect(page.getByRole('alert')).toContainText('expired or was already used');
		expect(statuses.filter((status) => status >= 500)).toEqual([]);
		expect(await sessionCookie(page)).toBeUndefined();
	});

	test('the provider cannot be reached', async ({ page }) => {
		await page.goto(`${PRODUCTION_APP.origin}/login`);
		const [response] = await Promise.all([
			page.waitForResponse((candidate) => candidate.url().includes('?/oauth')),
			page.getByRole('button', { name: 'Continue with Down ID' }).click()
		]);
		expect(response.status()).toBeLessThan(500);
		await expect(page.getByRole('alert')).toHaveText(
			'Down ID cannot be reached right now. Try again later, or sign in with an email code.'
		);
	});
});

test.describe('without any provider configured', () => {
	// A production build without OAuth; behind its proxy, every request carries the client address.
	test.use({ baseURL: PROXIED_APP.origin, extraHTTPHeaders: { 'x-forwarded-for': '198.51.100.30' } });

	test('no button is rendered and the OAuth routes refuse', async ({ page, request }) => {
		await page.goto('/login');
		await expect(page.getByRole('button', { name: /^Continue with/ })).toHaveCount(0);

		const action = await request.post('/login?/oauth', {
			form: { provider: 'oidc' },
			headers: { origin: PROXIED_APP.origin, accept: 'text/html' }
		});
		expect(action.status()).toBe(404);
		expect(await action.text()).toContain('That sign-in option is not available here.');

		const api = await request.post('/api/auth/sign-in/social', {
			data: { provider: 'oidc', callbackURL: '/' },
			headers: { origin: PROXIED_APP.origin }
		});
		expect(api.status()).toBeGreaterThanOrEqual(400);
		expect(api.status()).toBeLessThan(500);

		const callback = await request.get('/api/auth/callback/oidc?code=x&state=y', { maxRedirects: 0 });
		expect(callback.status()).toBe(404);
		expect(callback.headers()['set-cookie'] ?? '').not.toContain('session_token=');
	});

	test('no /api/auth/callback/<provider> exists: each answers the same no-store 404 as any /api/auth path', async ({
		request
	}) => {
		const reference = await notFoundAnswer(request, '/api/auth/get-session');
		expect(reference).toEqual({ status: 404, cacheControl: 'no-store', body: 'Not found', location: undefined });
		for (const path of [
			'/api/auth/callback/github?code=x&state=y',
			'/api/auth/callback/google?code=x&state=y',
			'/api/auth/callback/oidc?code=x&state=y',
			'/api/auth/callback/get-session',
			'/api/auth/callback/oidc/extra'
		]) {
			expect(await notFoundAnswer(request, path), path).toEqual(reference);
		}
	});
});

/** What a request under /api/auth gets back, without following a redirect. */
async function notFoundAnswer(request: APIRequestContext, path: string) {
	const response = await request.get(path, { maxRedirects: 0 });
	return {
		status: response.status(),
		cacheControl: response.headers()['cache-control'],
		body: await response.text(),
		location: response.headers()['location']
	};
}

test('only the configured provider’s callback reaches Better Auth; the others do not exist', async ({ request }) => {
	// SMTP_APP has the OpenID Connect provider and neither GitHub nor Google.
	const configured = await request.get('/api/auth/callback/oidc?code=x&state=y', { maxRedirects: 0 });
	expect(configured.status()).toBe(302);
	expect(configured.headers()['location']).toMatch(new RegExp(`^${SMTP_APP.origin}/login\\?error=`));

	const reference = await notFoundAnswer(request, '/api/auth/get-session');
	expect(reference.status).toBe(404);
	for (const path of [
		'/api/auth/callback/github?code=x&state=y',
		'/api/auth/callback/google?code=x&state=y',
		'/api/auth/callback/get-session',
		'/api/auth/callback/oidc/extra?code=x&state=y',
		'/api/auth/callback/oidc/',
		'/api/auth/callback/OIDC?code=x&state=y',
		'/api/auth/callback/',
		'/api/auth/callback'
	]) {
		expect(await notFoundAnswer(request, path), path).toEqual(reference);
	}
});
