import type { BrowserContext } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { SESSION_COOKIE } from './support/servers';
import { enterCode, requestCode } from './support/sign-in';

async function sessionCookie(context: BrowserContext) {
	return (await context.cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
}

test('a protected page sends a visitor through sign-in and back, and sign-out locks it again', async ({
	page,
	context
}) => {
	const email = uniqueEmail('journey');

	await page.goto('/account');
	await expect(page).toHaveURL('/login?redirectTo=%2Faccount');

	const code = await requestCode(page, email);
	await enterCode(page, code);

	await expect(page).toHaveURL('/account');
	await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
	await expect(page.locator('.email')).toHaveText(email);
	await expect(page.getByText('127.0.0.1')).toBeVisible();

	const cookie = await sessionCookie(context);
	expect(cookie, 'session cookie after sign-in').toBeDefined();
	expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: true });
	// Remember-me was left unticked: a browser-session cookie, gone when the browser closes.
	expect(cookie!.expires).toBe(-1);

	await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL('/login?signedOut');
	await expect(page.getByText('You are signed out.')).toBeVisible();
	expect(await sessionCookie(context)).toBeUndefined();

	await page.goto('/account');
	await expect(page).toHaveURL('/login?redirectTo=%2Faccount');
});

test('a wrong code is refused with a message; the right one signs in, never to another site', async ({ page }) => {
	const email = uniqueEmail('wrong-code');
	await page.goto('/login?redirectTo=%2F%2Fevil.example%2Fphish');
	const code = await requestCode(page, email);

	await enterCode(page, code === '00000000' ? '11111111' : '00000000');
	await expect(page.getByRole('alert')).toContainText('That code is not valid');
	await expect(page.getByLabel('Sign-in code')).toBeVisible();

	await enterCode(page, code);
	await expect(page).toHaveURL('/');
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
});

test('remember me gives a cookie that outlives the browser for 30 days', async ({ page, context }) => {
	const email = uniqueEmail('remember');
	await page.goto('/login?redirectTo=%2Faccount');
	await enterCode(page, await requestCode(page, email), true);
	await expect(page).toHaveURL('/account');
	await expect(page.getByText('remember-me', { exact: true })).toBeVisible();

	const cookie = await sessionCookie(context);
	const thirtyDays = 30 * 24 * 3600;
	expect(cookie!.expires - Date.now() / 1000).toBeGreaterThan(thirtyDays - 120);
	expect(cookie!.expires - Date.now() / 1000).toBeLessThanOrEqual(thirtyDays + 5);
});
