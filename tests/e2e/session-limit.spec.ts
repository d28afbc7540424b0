import type { Browser, BrowserContext, Page } from '@playwright/test';
import { sessionCountFor } from './support/database';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { LIMIT_APP, OIDC_PROVIDER } from './support/servers';
import { signInAs } from './support/sign-in';

interface Device {
	context: BrowserContext;
	page: Page;
}

/** A browser of its own (own cookie jar) on the app limited to 2 sessions per user. */
async function openDevice(browser: Browser, javaScriptEnabled: boolean): Promise<Device> {
	const context = await browser.newContext({ baseURL: LIMIT_APP.origin, javaScriptEnabled });
	return { context, page: await context.newPage() };
}

test('three browsers over a limit of 2: the first is signed out on its next request; the devices page says 2 of 2', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-limit');
	const devices = [
		await openDevice(browser, javaScriptEnabled),
		await openDevice(browser, javaScriptEnabled),
		await openDevice(browser, javaScriptEnabled)
	];
	const [first, second, third] = devices as [Device, Device, Device];
	try {
		await signInAs(first.page, email);
		await signInAs(second.page, email);
		await second.page.goto('/account/sessions');
		await expect(second.page.getByTestId('session-count')).toContainText('2 of 2');

		await signInAs(third.page, email);
		expect(sessionCountFor(LIMIT_APP, email)).toBe(2);

		// The least recently active, the first browser, is out on its very next request.
		await first.page.goto('/account/sessions');
		await expect(first.page).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
		await second.page.goto('/account/sessions');
		await expect(second.page).toHaveURL('/account/sessions');
		await third.page.goto('/account/sessions');
		await expect(third.page.getByTestId('device')).toHaveCount(2);
		await expect(third.page.getByTestId('session-count')).toContainText('2 of 2');

		await third.page.goto('/account/security');
		const limitEvent = third.page.locator('[data-testid="security-event"][data-type="SESSION_LIMIT_REACHED"]');
		await expect(limitEvent).toHaveCount(1);
		await expect(limitEvent).toContainText('Signed out the oldest device (session limit)');
		await expect(limitEvent).toContainText('1 session · limit 2');
	} finally {
		for (const device of devices) await device.context.close();
	}
});

/** Tells the test provider (support/oidc-provider.ts) who signs in next: a verified address. */
async function providerSignsIn(email: string): Promise<void> {
	const response = await fetch(`http://127.0.0.1:${OIDC_PROVIDER.controlPort}/identity`, {
		method: 'POST',
		body: JSON.stringify({ sub: `limit-${email}`, email, email_verified: true, name: 'Limit Test' })
	});
	expect(response.ok).toBe(true);
}

test('a sign-in through OpenID Connect over the limit ends the least recently active session too', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-limit-oidc');
	const devices = [
		await openDevice(browser, javaScriptEnabled),
		await openDevice(browser, javaScriptEnabled),
		await openDevice(browser, javaScriptEnabled)
	];
	const [first, second, third] = devices as [Device, Device, Device];
	try {
		await signInAs(first.page, email);
		await signInAs(second.page, email);

		await providerSignsIn(email);
		await third.page.goto('/login');
		await third.page.getByRole('button', { name: `Continue with ${OIDC_PROVIDER.name}` }).click();
		await expect(third.page.getByText(`You are signed in as ${email}`)).toBeVisible();
		expect(sessionCountFor(LIMIT_APP, email)).toBe(2);

		await first.page.goto('/account/sessions');
		await expect(first.page).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
		await second.page.goto('/account/sessions');
		await expect(second.page.getByTestId('session-count')).toContainText('2 of 2');
	} finally {
		for (const device of devices) await device.context.close();
	}
});
