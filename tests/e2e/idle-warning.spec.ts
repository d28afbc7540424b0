import type { Page } from '@playwright/test';
import { withAppDatabase } from './support/database';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { IDLE_APP, SESSION_COOKIE } from './support/servers';
import { signInAs } from './support/sign-in';
import { expectNoAxeViolations } from './support/axe';

// IDLE_APP: sessions idle out after 2 minutes (refresh after 1), the warning shows 1 minute
// before. The browser's clock is Playwright's fake one, moved by the tests; the server's is real,
// so where the server must see a session near or past its end, the stored expiry is moved.
test.use({ baseURL: IDLE_APP.origin });

const SECOND = 1000;
const IDLE_MS = 120 * SECOND;

/** The session row of `email` (one per test: each signs in a new address). */
function sessionOf(email: string): { id: string; expiresAt: number; updatedAt: number } {
	return withAppDatabase(IDLE_APP, (db) =>
		db
			.prepare<[string], { id: string; expiresAt: number; updatedAt: number }>(
				'SELECT s.id, s.expires_at AS expiresAt, s.updated_at AS updatedAt FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
			)
			.get(email)!
	);
}

/**
 * Waits until the page has hydrated, so that its idle timer has read the browser's clock before
 * the test moves it: the root layout's focus listener, attached in the same pass, then asks the
 * server for the page's data again. The answer is awaited whole and then one task more, since a
 * clock moved before the new times arrive would be taken as the server's time.
 */
async function hydrated(page: Page): Promise<void> {
	await expect(async () => {
		const answer = page.waitForResponse((response) => response.url().includes('__data.json'), { timeout: 2000 });
		await page.evaluate(() => window.dispatchEvent(new Event('focus')));
		const body = (await answer).text();
		// A reload that the page dropped for a newer one has no body to wait for: try again.
		let timer: ReturnType<typeof setTimeout> | undefined;
		const dropped = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no body')), 2000)));
		try {
			await Promise.race([body, dropped]);
		} finally {
			clearTimeout(timer);
		}
	}).toPass();
	await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
}

function setStoredExpiry(sessionId: string, expiresAt: number): void {
	withAppDatabase(IDLE_APP, (db) =>
		db.prepare('UPDATE session SET expires_at = ? WHERE id = ?').run(expiresAt, sessionId)
	);
}

test('the warning shows a minute before the idle end; "Stay signed in" slides the stored expiry and closes it in every tab', async ({
	page,
	context
}) => {
	await page.clock.install();
	const email = uniqueEmail('idle-warning');
	await signInAs(page, email);
	await page.goto('/account');
	await hydrated(page);
	const other = await context.newPage();
	await other.goto('/account/sessions');
	await expect(other.getByRole('banner')).toContainText(email);
	await hydrated(other);

	await page.bringToFront();
	const accountLink = page.getByRole('banner').getByRole('link', { name: 'Account' });
	await accountLink.focus();
	const warning = page.getByRole('alertdialog', { name: 'Are you still there?' });
	const otherWarning = other.getByRole('alertdialog', { name: 'Are you still there?' });

	await page.clock.fastForward(50 * SECOND);
	await expect(warning).toHaveCount(0);
	await page.clock.fastForward(12 * SECOND);
	await expect(warning).toBeVisible();
	await expect(otherWarning).toBeVisible();

	// Labelled, described, modal, focus moved in to the safe choice.
	await expect(warning).toHaveAttribute('aria-modal', 'true');
	await expect(warning).toHaveAccessibleDescription(
		/^For your security, you will be signed out in \d+ seconds? because this session has not been used for a while\.$/
	);
	const stay = warning.getByRole('button', { name: 'Stay signed in' });
	const signOut = warning.getByRole('button', { name: 'Sign out' });
	await expect(stay).toBeFocused();
	// Tab and Shift+Tab go round the dialog's two buttons and never leave it.
	await page.keyboard.press('Tab');
	await expect(signOut).toBeFocused();
	await page.keyboard.press('Tab');
	await expect(stay).toBeFocused();
	await page.keyboard.press('Shift+Tab');
	await expect(signOut).toBeFocused();
	await page.keyboard.press('Shift+Tab');
	await expect(stay).toBeFocused();

	await expectNoAxeViolations(page, 'idle warning', 'dialog');

	// The stored expiry moved earlier than the sign-in left it, and no refresh due (the last one
	// was seconds ago): only "Stay signed in" sliding now can move it to now + the idle time.
	const session = sessionOf(email);
	setStoredExpiry(session.id, Date.now() + 70 * SECOND);
	const clickedAt = Date.now();
	const extended = page.waitForResponse((response) => response.url().includes('/session?/extend'));
	await stay.click();
	expect((await (await extended).allHeaders())['set-cookie']).toMatch(
		new RegExp(`^${SESSION_COOKIE.replace('.', '\\.')}=`)
	);
	await expect(warning).toHaveCount(0);
	await expect(accountLink).toBeFocused();
	const after = sessionOf(email);
	console.log(
		`stay signed in: stored expiry now + ${Math.round((after.expiresAt - clickedAt) / SECOND)} s (was now + 70 s), refresh ${after.updatedAt >= clickedAt ? 'recorded' : 'not recorded'}`
	);
	expect(after.expiresAt).toBeGreaterThanOrEqual(clickedAt + IDLE_MS);
	expect(after.updatedAt).toBeGreaterThanOrEqual(clickedAt);

	// The other tab heard of the new idle end from this one, without asking the server.
	await expect(otherWarning).toHaveCount(0);
	await expect(other).toHaveURL('/account/sessions');
});

test('Escape does what "Stay signed in" does', async ({ page }) => {
	await page.clock.install();
	const email = uniqueEmail('idle-escape');
	await signInAs(page, email);
	await hydrated(page);
	const session = sessionOf(email);
	await page.clock.fastForward(62 * SECOND);
	const warning = page.getByRole('alertdialog', { name: 'Are you still there?' });
	await expect(warning).toBeVisible();

	setStoredExpiry(session.id, Date.now() + 70 * SECOND);
	const pressedAt = Date.now();
	await page.keyboard.press('Escape');
	await expect(warning).toHaveCount(0);
	await expect.poll(() => sessionOf(email).expiresAt).toBeGreaterThanOrEqual(pressedAt + IDLE_MS);
	await expect(page).toHaveURL('/');
});

test('after the idle end the page moves to sign-in, and the server ends the session', async ({ page }) => {
	await page.clock.install();
	const email = uniqueEmail('idle-end');
	await signInAs(page, email);
	await page.goto('/account/security');
	await hydrated(page);
	const session = sessionOf(email);

	await page.clock.fastForward(62 * SECOND);
	await expect(page.getByRole('alertdialog')).toBeVisible();
	await expect(page).toHaveURL('/account/security');
	// The server's idle end has passed too (its clock is the real one).
	setStoredExpiry(session.id, Date.now() - SECOND);
	await page.clock.fastForward(60 * SECOND);

	await expect(page).toHaveURL('/login?redirectTo=%2Faccount%2Fsecurity');
	await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
	await expect(page.getByRole('banner')).not.toContainText(email);
	const cookies = await page.context().cookies();
	expect(cookies.filter((cookie) => cookie.name === SESSION_COOKIE)).toEqual([]);
});

test('a session still valid at the page’s idle end comes straight back from sign-in', async ({ page }) => {
	await page.clock.install();
	const email = uniqueEmail('idle-still-valid');
	await signInAs(page, email);
	await page.goto('/account');
	await hydrated(page);
	// Another browser window without the warning (a no-JavaScript one) kept the session going.
	const session = sessionOf(email);
	setStoredExpiry(session.id, Date.now() + 10 * 60 * SECOND);
	await page.clock.fastForward(62 * SECOND);
	await page.clock.fastForward(60 * SECOND);
	await expect(page).toHaveURL('/account');
	await expect(page.getByRole('banner')).toContainText(email);
	await expect(page.getByRole('alertdialog')).toHaveCount(0);
});

test('without JavaScript: no warning in the page, and the form action works as a plain post', async ({
	browser,
	request
}) => {
	const context = await browser.newContext({ baseURL: IDLE_APP.origin, javaScriptEnabled: false });
	const page = await context.newPage();
	const email = uniqueEmail('idle-no-js');
	await signInAs(page, email);
	const session = sessionOf(email);
	// Inside the warning time by the server's clock.
	setStoredExpiry(session.id, Date.now() + 30 * SECOND);
	await page.goto('/account');
	await expect(page.getByRole('banner')).toContainText(email);
	expect(await page.content()).not.toMatch(/<dialog|alertdialog|Stay signed in/);

	const postedAt = Date.now();
	const response = await page.request.post('/session?/extend&redirectTo=%2Faccount', {
		form: {},
		headers: { origin: IDLE_APP.origin, accept: 'text/html' },
		maxRedirects: 0
	});
	expect(response.status()).toBe(303);
	expect(response.headers()['location']).toBe('/account');
	expect(sessionOf(email).expiresAt).toBeGreaterThanOrEqual(postedAt + IDLE_MS);

	// Signed out, the post is sent to sign-in and changes nothing.
	const signedOut = await request.post(`${IDLE_APP.origin}/session?/extend&redirectTo=%2Faccount`, {
		form: {},
		headers: { origin: IDLE_APP.origin, accept: 'text/html' },
		maxRedirects: 0
	});
	expect(signedOut.status()).toBe(303);
	expect(signedOut.headers()['location']).toMatch(/^\/login\?redirectTo=/);
	await context.close();
});
