import { sessionCountFor } from './support/database';
import { expect, test } from './support/fixtures';
import { FORM_ACTIONS } from './support/form-actions';
import { uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

const ACTIONS = FORM_ACTIONS.map((action) => action.path);

test('a form posted from another site is refused by every action, and changes nothing', async ({ page }) => {
	const email = uniqueEmail('cross-site');
	await signInAs(page, email);
	const before = sessionCountFor(SMTP_APP, email);

	for (const action of ACTIONS) {
		const response = await page.request.post(action, {
			form: { email, code: '123456', provider: 'oidc', sessionId: 'x', confirm: 'yes' },
			headers: { origin: 'https://evil.example', accept: 'text/html' }
		});
		expect(response.status(), action).toBe(403);
	}
	console.log(
		`cross-site posts: ${ACTIONS.length} actions, all 403; sessions before ${before}, after ${sessionCountFor(SMTP_APP, email)}`
	);
	expect(sessionCountFor(SMTP_APP, email)).toBe(before);
	await page.goto('/account');
	await expect(page).toHaveURL('/account');
});

test('visiting the sign-out page with GET changes nothing; only its form signs out', async ({ page }) => {
	const email = uniqueEmail('get-logout');
	await signInAs(page, email);
	await page.goto('/logout');
	await expect(page.getByRole('heading', { name: 'Sign out' })).toBeVisible();
	expect(sessionCountFor(SMTP_APP, email)).toBe(1);
	await page.goto('/account');
	await expect(page).toHaveURL('/account');
});
