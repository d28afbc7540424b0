import type { Browser, BrowserContext, Page } from '@playwright/test';
import { expectNoAxeViolations } from './support/axe';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { SESSION_COOKIE, SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

/**
 * Why was I signed out (docs/decisions/0018-why-a-session-ended.md): a browser whose session was
 * ended elsewhere reads why on its next visit, once; a forged cookie, or the URL, tells nothing.
 */

const ANOTHER_DEVICE = 'You were signed out from another device.';

async function openBrowser(
	browser: Browser,
	javaScriptEnabled: boolean
): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser.newContext({ baseURL: SMTP_APP.origin, javaScriptEnabled });
	return { context, page: await context.newPage() };
}

async function sessionCookieOf(context: BrowserContext) {
	return (await context.cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
}

/** Signs `email` in on `page` and on a second browser, then revokes the second from the first's devices page. */
async function revokedFromAnotherBrowser(page: Page, other: Page, email: string): Promise<void> {
	await signInAs(page, email);
	await signInAs(other, email);
	await page.goto('/account/sessions');
	const card = page.getByTestId('device').filter({ hasNotText: 'This device' });
	await card.getByRole('button', { name: /^Revoke/ }).click();
	await expect(page.getByRole('status')).toContainText('Signed out');
}

test('a browser revoked from another browser reads "another device" once, then the plain page', async ({
	page,
	browser,
	javaScriptEnabled
}) => {
	const revoked = await openBrowser(browser, javaScriptEnabled);
	try {
		await revokedFromAnotherBrowser(page, revoked.page, uniqueEmail('told-why'));

		// Its next visit: the protected page sends it to sign-in, which says why.
		await revoked.page.goto('/account');
		await expect(revoked.page).toHaveURL('/login?redirectTo=%2Faccount');
		await expect(revoked.page.getByRole('status')).toHaveText(ANOTHER_DEVICE);
		// axe runs in the page: with JavaScript off there is nothing to run it in.
		if (javaScriptEnabled) await expectNoAxeViolations(revoked.page, 'sign-in page with a reason');
		// Shown once: the cookie that proved it is gone.
		expect(await sessionCookieOf(revoked.context)).toBeUndefined();

		await revoked.page.reload();
		await expect(revoked.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
		await expect(revoked.page.getByRole('status')).toHaveCount(0);
		await expect(revoked.page.getByText(ANOTHER_DEVICE)).toHaveCount(0);

		// The browser that revoked it is still signed in.
		await page.goto('/account');
		await expect(page).toHaveURL('/account');
	} finally {
		await revoked.context.close();
	}
});

test('a forged cookie for the revoked session reads no reason; the URL cannot ask for one', async ({
	page,
	browser,
	javaScriptEnabled
}) => {
	const revoked = await openBrowser(browser, javaScriptEnabled);
	const forger = await openBrowser(browser, javaScriptEnabled);
	try {
		await revokedFromAnotherBrowser(page, revoked.page, uniqueEmail('forged-why'));
		const real = (await sessionCookieOf(revoked.context))!;
		expect(real).toBeDefined();

		// The revoked session's own token with its signature altered, in another browser.
		const [token, signature] = [
			real.value.slice(0, real.value.lastIndexOf('.')),
			real.value.slice(real.value.lastIndexOf('.') + 1)
		];
		const altered = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
		await forger.context.addCookies([{ ...real, value: `${token}.${altered}` }]);
		await forger.page.goto('/account');
		await expect(forger.page).toHaveURL('/login?redirectTo=%2Faccount');
		await expect(forger.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
		await expect(forger.page.getByRole('status')).toHaveCount(0);
		await expect(forger.page.getByText(ANOTHER_DEVICE)).toHaveCount(0);

		// A reason is never read from the address.
		for (const query of ['ended=network', 'ended=revoked', 'reason=revoked']) {
			await forger.page.goto(`/login?${query}`);
			await expect(forger.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
			await expect(forger.page.getByRole('status'), query).toHaveCount(0);
		}

		// The real cookie of the same session still reads it: the reason was there to find.
		await revoked.page.goto('/login');
		await expect(revoked.page.getByRole('status')).toHaveText(ANOTHER_DEVICE);
	} finally {
		await forger.context.close();
		await revoked.context.close();
	}
});
