import { expect, test } from './support/fixtures';
import { AS_BROWSER } from './support/form-actions';
import { collectDialogs, IMG, injectedElements, SCRIPT, visit } from './support/hostile';
import { uniqueEmail } from './support/mail';
import { signInAs } from './support/sign-in';

// Addresses typed into the sign-in form, with and without JavaScript (both projects run this
// file): refused with a clear 400 that keeps what was typed, or, when valid, shown as text.

const HOSTILE_EMAILS = [
	SCRIPT + '@example.com',
	IMG + '@example.com',
	'nul\u0000and\u0001\u001f\u007fcontrols@example.com',
	'\u202eadmin@example.com',
	`${'a'.repeat(10 * 1024)}@example.com`
];

test('emails with markup, control characters, a bidi override or 10 KB get a clear 400 on /login, keeping what was typed', async ({
	page,
	request,
	javaScriptEnabled
}) => {
	const dialogs: string[] = [];
	collectDialogs(page, dialogs);
	const statuses: number[] = [];
	for (const email of HOSTILE_EMAILS) {
		await page.goto('/login');
		const field = page.getByLabel('Email address');
		// The page's form, submitted as a browser that does not validate type="email" would.
		await field.evaluate((input) => (input as HTMLInputElement).form!.setAttribute('novalidate', ''));
		await field.fill(email);
		const typed = await field.inputValue();
		const [answer] = await Promise.all([
			page.waitForResponse((response) => response.request().method() === 'POST'),
			page.getByRole('button', { name: 'Email me a code' }).click()
		]);
		// With JavaScript, use:enhance posts it and SvelteKit answers 200 with the failure's status inside.
		const refused = javaScriptEnabled ? ((await answer.json()) as { status: number }).status : answer.status();
		statuses.push(refused);
		await expect(page.getByRole('alert')).toHaveText('Enter a valid email address, like name@example.com.');
		// Without JavaScript the value comes back in HTML, which cannot carry a NUL: its parser makes it U+FFFD.
		const kept = javaScriptEnabled ? typed : typed.replaceAll('\u0000', '\ufffd');
		expect(await page.getByLabel('Email address').inputValue()).toBe(kept);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
		expect(await injectedElements(page)).toBe(0);

		// The status as such a browser gets it, and the code step: refused the same way, never
		// claiming to have sent a code to that address.
		const sent = await request.post('/login?/sendCode', { form: { email }, headers: AS_BROWSER });
		const verified = await request.post('/login?/verifyCode', {
			form: { email, code: '12345678' },
			headers: AS_BROWSER
		});
		statuses.push(sent.status(), verified.status());
		expect([refused, sent.status(), verified.status()]).toEqual([400, 400, 400]);
		const verifyPage = await verified.text();
		expect(verifyPage).toContain('Enter your email address first.');
		expect(verifyPage).not.toContain('We sent a sign-in code');
	}
	console.log(
		`hostile emails: ${HOSTILE_EMAILS.length} typed into /login${javaScriptEnabled ? '' : ' (no JavaScript)'} and posted to both sign-in steps; ` +
			`statuses ${statuses.join(' ')}; ${statuses.filter((status) => status >= 500).length} 5xx, ${dialogs.length} dialogs`
	);
	expect(dialogs).toEqual([]);
});

test('an address with an apostrophe and a plus signs in and is shown as the text it is', async ({ page }) => {
	const email = uniqueEmail("o'brien+tag");
	await signInAs(page, email);
	await visit(page, '/account', 'Your account');
	const shown = await page.locator('.email').textContent();
	console.log(`unusual address: ${email} signed in, shown as ${JSON.stringify(shown)}`);
	expect(shown).toBe(email);
});
