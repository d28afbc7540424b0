import type { Browser, BrowserContext, Page } from '@playwright/test';
import { ageSessionsOf, sessionCountFor, sessionIdsFor } from './support/database';
import { expect, test } from './support/fixtures';
import { countMessagesTo, latestCodeFor, uniqueEmail } from './support/mail';
import { SESSION_COOKIE, SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

interface Device {
	context: BrowserContext;
	page: Page;
}

/** Another browser (own cookie jar) with the same settings as the test's; the fixtures record its traffic. */
async function openDevice(browser: Browser, javaScriptEnabled: boolean): Promise<Device> {
	const context = await browser.newContext({ baseURL: SMTP_APP.origin, javaScriptEnabled });
	return { context, page: await context.newPage() };
}

async function closeDevice(device: Device): Promise<void> {
	await device.context.close();
}

function deviceCards(page: Page) {
	return page.getByTestId('device');
}

/** The next navigation of a revoked device must land on the sign-in page. */
async function expectSignedOut(page: Page) {
	await page.goto('/account/sessions');
	await expect(page).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
}

test('two devices of one user: list, revoke, sign out others, sign out everywhere; a third user untouched', async ({
	page,
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('two-devices');
	const bystander = uniqueEmail('bystander');
	const b = await openDevice(browser, javaScriptEnabled);
	const c = await openDevice(browser, javaScriptEnabled);
	try {
		await signInAs(page, email);
		await signInAs(b.page, email);
		await signInAs(c.page, bystander);
		expect(sessionCountFor(SMTP_APP, bystander)).toBe(1);

		await page.goto('/account/sessions');
		await expect(deviceCards(page)).toHaveCount(2);
		await expect(deviceCards(page).filter({ hasText: 'This device' })).toHaveCount(1);
		await b.page.goto('/account/sessions');
		await expect(deviceCards(b.page).filter({ hasText: 'This device' })).toHaveCount(1);

		// Revoke B from A: the card without the "This device" badge.
		const other = deviceCards(page).filter({ hasNotText: 'This device' });
		await other.getByRole('button', { name: /^Revoke/ }).click();
		await expect(page.getByRole('status')).toContainText('Signed out');
		await expect(deviceCards(page)).toHaveCount(1);
		await expectSignedOut(b.page);

		// B signs in again; Sign out other devices from A.
		await signInAs(b.page, email);
		await page.goto('/account/sessions');
		await expect(deviceCards(page)).toHaveCount(2);
		await page.getByRole('button', { name: 'Sign out other devices' }).click();
		await expect(page.getByRole('status')).toContainText('Signed out 1 other device.');
		await expectSignedOut(b.page);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');

		// B once more; Sign out everywhere from A: both out, A lands on /login with a message.
		await signInAs(b.page, email);
		await page.goto('/account/sessions');
		await page.getByRole('button', { name: 'Sign out everywhere' }).click();
		await expect(page).toHaveURL('/login?signedOutEverywhere');
		await expect(page.getByRole('status')).toHaveText('You are signed out on every device.');
		expect((await page.context().cookies()).some((cookie) => cookie.name === SESSION_COOKIE)).toBe(false);
		await expectSignedOut(page);
		await expectSignedOut(b.page);
		expect(sessionCountFor(SMTP_APP, email)).toBe(0);

		expect(sessionCountFor(SMTP_APP, bystander)).toBe(1);
		await c.page.goto('/account');
		await expect(c.page).toHaveURL('/account');
	} finally {
		await closeDevice(b);
		await closeDevice(c);
	}
});

test('revoking another user’s session id answers 404 and leaves it alone', async ({ page, browser }) => {
	const victim = uniqueEmail('victim');
	const other = await openDevice(browser, true);
	try {
		await signInAs(other.page, victim);
		const [victimSession] = sessionIdsFor(SMTP_APP, victim);

		await signInAs(page, uniqueEmail('attacker'));
		const response = await page.request.post('/account/sessions?/revoke', {
			form: { sessionId: victimSession! },
			headers: { origin: SMTP_APP.origin, accept: 'text/html' }
		});
		expect(response.status()).toBe(404);
		expect(await response.text()).toContain('That session does not exist or has already ended.');
		expect(sessionIdsFor(SMTP_APP, victim)).toEqual([victimSession]);
		await other.page.goto('/account');
		await expect(other.page).toHaveURL('/account');
	} finally {
		await closeDevice(other);
	}
});

test('the security log shows sign-in, revocation and sign-out with device and IP', async ({ page, browser }) => {
	const email = uniqueEmail('logged');
	const other = await openDevice(browser, true);
	try {
		await signInAs(page, email);
		await signInAs(other.page, email);
		await page.goto('/account/sessions');
		await deviceCards(page)
			.filter({ hasNotText: 'This device' })
			.getByRole('button', { name: /^Revoke/ })
			.click();
		await expect(page.getByRole('status')).toContainText('Signed out');
		await signInAs(other.page, email);
		await page.goto('/account/sessions');
		await page.getByRole('button', { name: 'Sign out other devices' }).click();
		await expect(page.getByRole('status')).toContainText('Signed out 1 other device.');

		await page.goto('/account/security');
		const events = page.getByTestId('security-event');
		await expect(events.filter({ has: page.locator('code', { hasText: /^SIGN_IN$/ }) })).toHaveCount(3);
		for (const type of ['SESSION_REVOKED', 'SIGNED_OUT_OTHERS']) {
			const row = events.filter({ has: page.locator('code', { hasText: new RegExp(`^${type}$`) }) });
			await expect(row).toHaveCount(1);
			await expect(row).toContainText('127.0.0.1');
			await expect(row).toContainText('Chrome');
		}
		await expect(events.first()).toHaveAttribute('data-type', 'SIGNED_OUT_OTHERS');
	} finally {
		await closeDevice(other);
	}
});

/** Twenty minutes: older than the default re-auth window of fifteen. */
const STALE_MINUTES = 20;

function revokeOtherDevice(page: Page) {
	return deviceCards(page)
		.filter({ hasNotText: 'This device' })
		.getByRole('button', { name: /^Revoke/ })
		.click();
}

test('an old sign-in confirms with a code before ending other devices; nothing ends before that', async ({
	page,
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('stale-devices');
	const b = await openDevice(browser, javaScriptEnabled);
	try {
		await signInAs(page, email);
		await signInAs(b.page, email);
		ageSessionsOf(SMTP_APP, email, STALE_MINUTES);
		const sessions = sessionIdsFor(SMTP_APP, email).sort();

		const attempts: Array<[string, () => Promise<void>]> = [
			['Revoke', () => revokeOtherDevice(page)],
			['Sign out other devices', () => page.getByRole('button', { name: 'Sign out other devices' }).click()],
			['Sign out everywhere', () => page.getByRole('button', { name: 'Sign out everywhere' }).click()]
		];
		for (const [action, attempt] of attempts) {
			await page.goto('/account/sessions');
			await attempt();
			await expect(page, action).toHaveURL('/reauth?redirectTo=%2Faccount%2Fsessions');
			expect(sessionIdsFor(SMTP_APP, email).sort(), action).toEqual(sessions);
		}
		await b.page.goto('/account');
		await expect(b.page).toHaveURL('/account');

		// A new code brings this device back to the page, signed in afresh: each action now works.
		const sent = await countMessagesTo(email);
		await page.getByRole('button', { name: 'Email me a code' }).click();
		await page.getByLabel('Sign-in code').fill(await latestCodeFor(email, sent));
		await page.getByRole('button', { name: 'Confirm' }).click();
		await expect(page).toHaveURL('/account/sessions');

		await revokeOtherDevice(page);
		await expect(page.getByRole('status')).toContainText('Signed out');
		await expectSignedOut(b.page);

		await signInAs(b.page, email);
		await page.goto('/account/sessions');
		await page.getByRole('button', { name: 'Sign out other devices' }).click();
		await expect(page.getByRole('status')).toContainText('Signed out 1 other device.');
		await expectSignedOut(b.page);

		await page.goto('/account/sessions');
		await page.getByRole('button', { name: 'Sign out everywhere' }).click();
		await expect(page).toHaveURL('/login?signedOutEverywhere');
		expect(sessionCountFor(SMTP_APP, email)).toBe(0);
	} finally {
		await closeDevice(b);
	}
});

test('signing out this device stays immediate after an old sign-in', async ({ page }) => {
	const email = uniqueEmail('stale-sign-out');
	await signInAs(page, email);
	ageSessionsOf(SMTP_APP, email, STALE_MINUTES);

	await page.goto('/account/sessions');
	await deviceCards(page)
		.filter({ hasText: 'This device' })
		.getByRole('button', { name: /^Sign out this device/ })
		.click();
	await expect(page).toHaveURL('/login?signedOut');
	expect(sessionCountFor(SMTP_APP, email)).toBe(0);
});
