import { expect, test } from './support/fixtures';
import { latestCodeFor, uniqueEmail } from './support/mail';
import { withAppDatabase } from './support/database';
import { SMTP_APP } from './support/servers';

test('a request a day after the last refresh slides the session and re-issues the cookie; earlier ones do not', async ({
	page
}) => {
	const email = uniqueEmail('refresh');
	await page.goto('/login');
	await page.getByLabel('Email address').fill(email);
	await page.getByRole('button', { name: 'Email me a code' }).click();
	await page.getByLabel('Sign-in code').fill(await latestCodeFor(email));
	await page.getByLabel('Remember me on this device').check();
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await expect(page).toHaveURL('/');

	const early = await page.request.get('/account');
	expect(early.status()).toBe(200);
	expect(early.headers()['set-cookie']).toBeUndefined();

	const day = 24 * 3600 * 1000;
	const before = withAppDatabase(SMTP_APP, (db) => {
		const row = db
			.prepare<[string], { id: string; updated_at: number; expires_at: number }>(
				'SELECT s.id, s.updated_at, s.expires_at FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
			)
			.get(email)!;
		db.prepare('UPDATE session SET updated_at = ?, expires_at = ? WHERE id = ?').run(
			row.updated_at - day,
			row.expires_at - day,
			row.id
		);
		return { id: row.id, expiresAt: row.expires_at - day };
	});

	const due = await page.request.get('/account');
	expect(due.status()).toBe(200);
	const setCookie = due.headers()['set-cookie'] ?? '';
	expect(setCookie).toMatch(/^__Host-latchkey\.session_token=/);
	expect(setCookie).toMatch(/; Secure/);
	expect(setCookie).toMatch(/Max-Age=2592000/);
	expect(setCookie).toMatch(/HttpOnly/);
	expect(setCookie).toMatch(/SameSite=Lax/);

	const after = withAppDatabase(SMTP_APP, (db) =>
		db.prepare<[string], { expires_at: number }>('SELECT expires_at FROM session WHERE id = ?').get(before.id)!
	);
	expect(after.expires_at - before.expiresAt).toBeGreaterThan(day - 60_000);

	const next = await page.request.get('/account');
	expect(next.headers()['set-cookie']).toBeUndefined();
});
