import { expect, test } from './support/fixtures';
import { AS_BROWSER } from './support/form-actions';

// Posts the login forms the way a browser without client-side validation would; bodies that
// are not forms at all, for every action, are in malformed-forms.spec.ts.

test('an address that is not an email is refused with a message, keeping what was typed', async ({ request }) => {
	const response = await request.post('/login?/sendCode', { form: { email: 'not-an-email' }, headers: AS_BROWSER });
	expect(response.status()).toBe(400);
	const html = await response.text();
	expect(html).toContain('Enter a valid email address');
	expect(html).toContain('value="not-an-email"');
});

test('an address Better Auth refuses gets the same clear message, not a 5xx', async ({ request }) => {
	const response = await request.post('/login?/sendCode', { form: { email: 'a!b@example.c' }, headers: AS_BROWSER });
	expect(response.status()).toBe(400);
	expect(await response.text()).toContain('Enter a valid email address');
});

test('a code that is not eight digits is refused before it costs an attempt', async ({ request }) => {
	const response = await request.post('/login?/verifyCode', {
		form: { email: 'someone@example.com', code: '12ab' },
		headers: AS_BROWSER
	});
	expect(response.status()).toBe(400);
	expect(await response.text()).toContain('Enter the code from the email: 8 digits.');
});

test('a form posted from another site is refused', async ({ request }) => {
	const response = await request.post('/login?/sendCode', {
		form: { email: 'victim@example.com' },
		headers: { origin: 'https://evil.example', accept: 'text/html' }
	});
	expect(response.status()).toBe(403);
});
