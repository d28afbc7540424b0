import { expect, test } from './support/fixtures';
import { withAppDatabase } from './support/database';
import { latestCodeFor, countMessagesTo, uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

function userExists(email: string): boolean {
	return withAppDatabase(SMTP_APP, (db) => db.prepare('SELECT 1 FROM "user" WHERE email = ?').get(email) !== undefined);
}

function sessionTokensOf(email: string): string[] {
	return withAppDatabase(SMTP_APP, (db) =>
		db
			.prepare<[string], { token: string }>(
				'SELECT s.token FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
			)
			.all(email)
			.map((row) => row.token)
	);
}

/** Makes this user's sessions look as if they signed in `minutes` ago. */
function ageSessions(email: string, minutes: number): void {
	withAppDatabase(SMTP_APP, (db) =>
		db
			.prepare('UPDATE session SET created_at = ? WHERE user_id = (SELECT id FROM "user" WHERE email = ?)')
			.run(Date.now() - minutes * 60_000, email)
	);
}

async function deleteAccount(page: import('@playwright/test').Page) {
	await page.goto('/account');
	await page.getByLabel('I want to delete my account').check();
	await page.getByRole('button', { name: 'Delete account' }).click();
}

test('a fresh session deletes the account straight away', async ({ page }) => {
	const email = uniqueEmail('fresh-delete');
	await signInAs(page, email);
	await deleteAccount(page);
	await expect(page).toHaveURL('/login?accountDeleted');
	await expect(page.getByRole('status')).toContainText('Your account and all its sessions have been deleted.');
	expect(userExists(email)).toBe(false);
	expect(sessionTokensOf(email)).toEqual([]);
});

test('an old session confirms with a new code first, gets a new token, then deletes the account', async ({ page }) => {
	const email = uniqueEmail('old-delete');
	await signInAs(page, email);
	const [oldToken] = sessionTokensOf(email);
	ageSessions(email, 20);

	await deleteAccount(page);
	await expect(page).toHaveURL('/reauth?redirectTo=%2Faccount');
	expect(userExists(email)).toBe(true);

	const before = await countMessagesTo(email);
	await page.getByRole('button', { name: 'Email me a code' }).click();
	await page.getByLabel('Sign-in code').fill(await latestCodeFor(email, before));
	await page.getByRole('button', { name: 'Confirm' }).click();
	await expect(page).toHaveURL('/account');

	const tokens = sessionTokensOf(email);
	expect(tokens).toHaveLength(1);
	expect(tokens[0]).not.toBe(oldToken);

	await page.goto('/account/security');
	await expect(page.locator('[data-type="REAUTHENTICATED"]')).toHaveCount(1);

	await deleteAccount(page);
	await expect(page).toHaveURL('/login?accountDeleted');
	expect(userExists(email)).toBe(false);
	expect(sessionTokensOf(email)).toEqual([]);
});
