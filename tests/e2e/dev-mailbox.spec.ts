import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { OUTBOX_APP, PRODUCTION_APP, SMTP_APP } from './support/servers';
import { expectCodeStep } from './support/sign-in';

test.describe('the development server without SMTP', () => {
	test.use({ baseURL: OUTBOX_APP.origin });
	// The development server compiles each page and module on first use.
	test.slow();

	test('the code arrives in /dev/mailbox, newest first, and signs in', async ({ page, context }) => {
		const email = uniqueEmail('outbox');
		for (const attempt of [1, 2]) {
			await page.goto('/login');
			await page.getByLabel('Email address').fill(email);
			await page.getByRole('button', { name: 'Email me a code' }).click();
			await expectCodeStep(page, email, `code request ${attempt}`);
		}

		const mailbox = await context.newPage();
		await mailbox.goto('/dev/mailbox');
		const messages = mailbox.getByTestId('dev-mail').filter({ hasText: email });
		await expect(messages).toHaveCount(2);
		const newest = (await messages.first().getByLabel('Sign-in code').textContent())!.trim();
		expect(newest).toMatch(/^\d{8}$/);

		await page.getByLabel('Sign-in code').fill(newest);
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
	});
});

test.describe('in production', () => {
	test.use({ baseURL: PRODUCTION_APP.origin });

	test('/dev/mailbox does not exist', async ({ request }) => {
		const response = await request.get('/dev/mailbox');
		expect(response.status()).toBe(404);
	});
});

test('no production build serves /dev/mailbox, with or without NODE_ENV', async ({ request }) => {
	// SMTP_APP is a production build started without NODE_ENV.
	for (const app of [SMTP_APP, PRODUCTION_APP]) {
		const response = await request.get(`${app.origin}/dev/mailbox`);
		expect(response.status(), app.origin).toBe(404);
		expect(await response.text()).not.toMatch(/Sign-in code|\b\d{8}\b/);
	}
});
