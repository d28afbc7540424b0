import type { BrowserContext } from '@playwright/test';
import { refuseWritesOf, sessionCountFor, withAppDatabase } from './support/database';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { PROXIED_APP, STRICT_APP, type TestServer } from './support/servers';
import { signInAs } from './support/sign-in';

// Both servers take the client address from X-Forwarded-For (ADDRESS_HEADER), as behind a proxy.
const from = (address: string) => ({ 'x-forwarded-for': address });

test.describe('standard preset: a new network is reported once', () => {
	test.use({ baseURL: PROXIED_APP.origin, extraHTTPHeaders: from('198.51.100.10') });

	test('one SUSPICIOUS_IP_CHANGE per new address, none for repeats', async ({ page, context }) => {
		await signInAs(page, uniqueEmail('roaming'));
		await page.goto('/account');

		for (const address of ['203.0.113.50', '203.0.113.50', '203.0.113.51', '203.0.113.50', '198.51.100.10']) {
			await context.setExtraHTTPHeaders(from(address));
			await page.goto('/account');
			await expect(page, `still signed in from ${address}`).toHaveURL('/account');
		}

		await page.goto('/account/security');
		const changes = page.getByTestId('security-event').and(page.locator('[data-type="SUSPICIOUS_IP_CHANGE"]'));
		await expect(changes).toHaveCount(2);
		await expect(changes.nth(0)).toContainText('203.0.113.51');
		await expect(changes.nth(1)).toContainText('from 198.51.100.10 to 203.0.113.50');
	});
});

test.describe('high-security preset: a new network ends the session', () => {
	test.use({ baseURL: STRICT_APP.origin, extraHTTPHeaders: from('198.51.100.10') });

	test('the next request from another address signs the browser out', async ({ page, context }) => {
		const email = uniqueEmail('strict');
		await signInAs(page, email);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');

		await context.setExtraHTTPHeaders(from('203.0.113.77'));
		await page.goto('/account');
		// Why comes from the ended session's stored reason, read with its validly signed cookie: the
		// address carries nothing but where to go back to.
		await expect(page).toHaveURL('/login?redirectTo=%2Faccount');
		await expect(page.getByRole('status')).toHaveText(
			'You were signed out because your session was used from a new network.'
		);
		expect(sessionCountFor(STRICT_APP, email)).toBe(0);
		await page.reload();
		await expect(page.getByRole('status')).toHaveCount(0);

		await signInAs(page, email);
		await page.goto('/account/security');
		const change = page.locator('[data-type="SUSPICIOUS_IP_CHANGE"]');
		await expect(change).toHaveCount(1);
		await expect(change).toContainText('session ended');
	});
});

/*
 * A fault between the network watch's steps (here: the database refusing one write, through a
 * trigger scoped to this user) must refuse the request and sign the browser out, never serve
 * it, and never leave the new network known.
 */
function knownNetworksOf(app: TestServer, email: string): string[] {
	return withAppDatabase(app, (db) =>
		db
			.prepare<[string], { known: string }>(
				'SELECT s.known_networks AS known FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
			)
			.all(email)
			.map((row) => row.known)
	);
}

async function hasSessionCookie(context: BrowserContext): Promise<boolean> {
	return (await context.cookies()).some((cookie) => cookie.name.endsWith('.session_token'));
}

test.describe('standard preset: the network watch fails closed', () => {
	test.use({ baseURL: PROXIED_APP.origin, extraHTTPHeaders: from('198.51.100.10') });

	test('when the event cannot be stored, the request is refused signed out and the network stays unknown', async ({
		page,
		context
	}) => {
		const email = uniqueEmail('watch-fault');
		await signInAs(page, email);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');

		const restore = refuseWritesOf(PROXIED_APP, email, 'INSERT ON security_event');
		try {
			await context.setExtraHTTPHeaders(from('203.0.113.90'));
			const response = await page.goto('/account');
			expect(response?.status()).toBe(503);
			await expect(page.getByRole('heading', { level: 1 })).toContainText('briefly unavailable');
			expect(await hasSessionCookie(context)).toBe(false);
			expect(knownNetworksOf(PROXIED_APP, email)).toEqual(['']);
		} finally {
			restore();
		}
	});
});

test.describe('high-security preset: the network watch fails closed', () => {
	test.use({ baseURL: STRICT_APP.origin, extraHTTPHeaders: from('198.51.100.10') });

	test('when the session cannot be ended, the request is refused signed out and the network stays unknown', async ({
		page,
		context
	}) => {
		const email = uniqueEmail('strict-fault');
		await signInAs(page, email);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');

		const restore = refuseWritesOf(STRICT_APP, email, 'DELETE ON session');
		try {
			await context.setExtraHTTPHeaders(from('203.0.113.91'));
			const response = await page.goto('/account');
			expect(response?.status()).toBe(503);
			expect(await hasSessionCookie(context)).toBe(false);
			expect(knownNetworksOf(STRICT_APP, email)).toEqual(['']);
		} finally {
			restore();
		}
	});
});
