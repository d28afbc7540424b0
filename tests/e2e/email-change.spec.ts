import type { Page } from '@playwright/test';
import { expectNoAxeViolations } from './support/axe';
import { withAppDatabase } from './support/database';
import { expect, test } from './support/fixtures';
import { countMessagesTo, latestCodeFor, uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

function userIdOf(email: string): string | undefined {
	return withAppDatabase(
		SMTP_APP,
		(db) => db.prepare<[string], { id: string }>('SELECT id FROM "user" WHERE email = ?').get(email)?.id
	);
}

/** Asks on /account for a code to `next` and returns it once the SMTP sink has it. */
async function askForCode(page: Page, next: string): Promise<string> {
	const before = await countMessagesTo(next);
	await page.goto('/account');
	await page.getByLabel('New email address').fill(next);
	await page.getByRole('button', { name: 'Send code' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'We sent a code to' })).toContainText(next);
	return latestCodeFor(next, before);
}

test('changing the address: a wrong code keeps the form, the right one signs out the other browser, and the new address signs in', async ({
	page,
	browser,
	javaScriptEnabled
}) => {
	const old = uniqueEmail('before-change');
	const next = uniqueEmail('after-change');
	const other = await browser.newContext({ baseURL: SMTP_APP.origin, javaScriptEnabled });
	const otherPage = await other.newPage();
	await signInAs(page, old);
	await signInAs(otherPage, old);
	const userId = userIdOf(old);

	const code = await askForCode(page, next);
	// axe runs in the page: with JavaScript off there is nothing to run it in.
	if (javaScriptEnabled) await expectNoAxeViolations(page, 'email change, code step');
	const wrong = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
	await page.getByLabel('Code from the email').fill(wrong);
	await page.getByRole('button', { name: 'Change address' }).click();
	await expect(page.getByRole('alert')).toHaveText(
		'That code is not valid. Check the newest email from us, or send a new code.'
	);
	await expect(page.getByRole('status').filter({ hasText: 'We sent a code to' })).toContainText(next);
	expect(userIdOf(old)).toBe(userId);

	const noticesBefore = await countMessagesTo(old);
	await page.getByLabel('Code from the email').fill(code);
	await page.getByRole('button', { name: 'Change address' }).click();
	await expect(page).toHaveURL('/account?emailChanged');
	await expect(page.getByRole('status')).toContainText(`Your address is now ${next}.`);
	if (javaScriptEnabled) await expectNoAxeViolations(page, 'account page after the change');
	expect(userIdOf(next)).toBe(userId);
	expect(userIdOf(old)).toBeUndefined();
	await expect.poll(() => countMessagesTo(old)).toBe(noticesBefore + 1);

	await otherPage.goto('/account');
	await expect(otherPage).toHaveURL('/login?redirectTo=%2Faccount');

	await page.goto('/account/security');
	await expect(page.locator('[data-type="EMAIL_CHANGED"]')).toContainText('1 session');

	await signInAs(otherPage, next);
	await otherPage.goto('/account');
	await expect(otherPage.locator('p.email')).toHaveText(next);
	expect(userIdOf(next)).toBe(userId);
	await other.close();
});

test('a taken address answers as a free one, and no code changes the account to it', async ({ page }) => {
	const taken = uniqueEmail('already-taken');
	const mine = uniqueEmail('asking');
	await signInAs(page, taken);
	await page.context().clearCookies();
	await signInAs(page, mine);

	const before = await countMessagesTo(taken);
	await page.goto('/account');
	await page.getByLabel('New email address').fill(taken);
	await page.getByRole('button', { name: 'Send code' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'We sent a code to' })).toContainText(taken);
	await expect.poll(() => countMessagesTo(taken)).toBe(before + 1);

	await page.getByLabel('Code from the email').fill('12345678');
	await page.getByRole('button', { name: 'Change address' }).click();
	await expect(page.getByRole('alert')).toHaveText(
		'That code is not valid. Check the newest email from us, or send a new code.'
	);
	expect(userIdOf(taken)).not.toBe(userIdOf(mine));
	expect(userIdOf(mine)).toBeDefined();
});
