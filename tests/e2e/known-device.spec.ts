import type { BrowserContext, Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { KNOWN_DEVICE_COOKIE, OIDC_PROVIDER } from './support/servers';
import { signInAs } from './support/sign-in';

// The known-device cookie a sign-in leaves in the browser (docs/CONFIGURATION.md, "Sign-in codes and limits"):
// set through the login form's action and through the OAuth callback alike.

const YEAR_SECONDS = 365 * 24 * 3600;

async function knownDeviceCookie(context: BrowserContext) {
	return (await context.cookies()).find((cookie) => cookie.name === KNOWN_DEVICE_COOKIE);
}

function expectKnownDeviceCookie(cookie: Awaited<ReturnType<typeof knownDeviceCookie>>, email: string) {
	expect(cookie, 'known-device cookie after sign-in').toBeDefined();
	expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: true });
	const expiresIn = cookie!.expires - Date.now() / 1000;
	expect(expiresIn).toBeGreaterThan(YEAR_SECONDS - 120);
	expect(expiresIn).toBeLessThanOrEqual(YEAR_SECONDS + 5);
	expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
	expect(cookie!.value).not.toContain(email.split('@')[0]!);
}

test('an email-code sign-in marks the browser as known; it stays after sign-out and a second sign-in keeps one tag', async ({
	page,
	context
}) => {
	const email = uniqueEmail('known-device');
	await signInAs(page, email);
	const first = await knownDeviceCookie(context);
	expectKnownDeviceCookie(first, email);

	await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL('/login?signedOut');
	expect((await knownDeviceCookie(context))?.value).toBe(first!.value);

	await signInAs(page, email);
	expect((await knownDeviceCookie(context))?.value).toBe(first!.value);
});

async function signInWithProvider(page: Page, email: string) {
	const identity = { sub: `known-device-${Date.now()}`, email, email_verified: true, name: 'Test User' };
	const response = await fetch(`http://127.0.0.1:${OIDC_PROVIDER.controlPort}/identity`, {
		method: 'POST',
		body: JSON.stringify(identity)
	});
	expect(response.ok).toBe(true);
	await page.goto('/login');
	await page.getByRole('button', { name: `Continue with ${OIDC_PROVIDER.name}` }).click();
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
}

test('an OpenID Connect sign-in marks the browser as known too', async ({ page, context }) => {
	const email = uniqueEmail('known-device-oidc');
	await signInWithProvider(page, email);

	expectKnownDeviceCookie(await knownDeviceCookie(context), email);
});
