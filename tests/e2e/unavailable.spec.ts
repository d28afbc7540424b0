import type { Page } from '@playwright/test';
import { dueRefreshOf, refuseWritesOf } from './support/database';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

/**
 * While the database cannot be used, every request gets a 503 in the shape it expects: the
 * friendly page for a page load and a plain form post, the error itself for a client-side
 * navigation's __data.json, an error ActionResult for an enhanced form. The fault here: this
 * user's session is due a refresh and the database refuses the write, so the session check
 * fails ("latchkey: session check failed") on every request of theirs.
 */
const MESSAGE = 'Latchkey is briefly unavailable. Please try again in a minute.';

async function whileRefreshRefused(page: Page, email: string, work: () => Promise<void>): Promise<void> {
	dueRefreshOf(SMTP_APP, email);
	const restore = refuseWritesOf(SMTP_APP, email, 'UPDATE ON session');
	try {
		await work();
	} finally {
		restore();
	}
}

function expectRetryLater(headers: Record<string, string>): void {
	expect(headers['retry-after']).toBe('30');
	expect(headers['cache-control']).toBe('no-store');
}

test('each kind of request gets the 503 in its own shape', async ({ page }) => {
	const email = uniqueEmail('unavailable-shapes');
	await signInAs(page, email);

	await whileRefreshRefused(page, email, async () => {
		const data = await page.request.get('/account/__data.json?x-sveltekit-invalidated=01');
		expect(data.status()).toBe(503);
		expect(data.headers()['content-type']).toMatch(/^application\/json/);
		expectRetryLater(data.headers());
		expect(await data.json()).toEqual({ message: MESSAGE });

		const enhanced = await page.request.post('/account/sessions?/signOutOthers', {
			headers: { origin: SMTP_APP.origin, accept: 'application/json', 'x-sveltekit-action': 'true' },
			form: {}
		});
		expect(enhanced.status()).toBe(503);
		expect(enhanced.headers()['content-type']).toMatch(/^application\/json/);
		expectRetryLater(enhanced.headers());
		expect(await enhanced.json()).toEqual({ type: 'error', error: { message: MESSAGE, status: 503 } });

		const plain = await page.request.post('/account/sessions?/signOutOthers', {
			headers: { origin: SMTP_APP.origin, accept: 'text/html' },
			form: {}
		});
		const pageLoad = await page.request.get('/account', { headers: { accept: 'text/html' } });
		for (const answer of [plain, pageLoad]) {
			expect(answer.status()).toBe(503);
			expect(answer.headers()['content-type']).toBe('text/html; charset=utf-8');
			expectRetryLater(answer.headers());
			expect(await answer.text()).toContain('Latchkey is briefly unavailable');
		}
	});
});

test('a client-side navigation gets the JSON error, then the friendly page', async ({ page }) => {
	const email = uniqueEmail('unavailable-navigation');
	await signInAs(page, email);
	await page.goto('/account');

	await whileRefreshRefused(page, email, async () => {
		const data = page.waitForResponse((response) => response.url().includes('/account/security/__data.json'));
		await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security log' }).click();
		const answer = await data;
		expect(answer.status()).toBe(503);
		// Its body is checked in the first test: the browser drops it once the page loads in full.
		expect(answer.headers()['content-type']).toMatch(/^application\/json/);
		// The root layout's data fails as well, so SvelteKit's client loads the page in full.
		await expect(page).toHaveURL('/account/security');
		await expect(page.getByRole('heading', { level: 1 })).toContainText('briefly unavailable');
	});
});

test('an enhanced form shows the message on the error page', async ({ page }) => {
	const email = uniqueEmail('unavailable-enhanced');
	await signInAs(page, email);
	await page.goto('/account/sessions');

	await whileRefreshRefused(page, email, async () => {
		const answer = page.waitForResponse((response) => response.url().includes('?/signOutEverywhere'));
		await page.getByRole('button', { name: 'Sign out everywhere' }).click();
		expect((await answer).status()).toBe(503);
		await expect(page).toHaveTitle('503 · Latchkey');
		await expect(page.getByText(MESSAGE)).toBeVisible();
	});
});
