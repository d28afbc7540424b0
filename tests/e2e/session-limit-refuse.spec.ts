import { expectNoAxeViolations } from './support/axe';
import { sessionCountFor } from './support/database';
import { withDevices, type Device } from './support/devices';
import { expect, test } from './support/fixtures';
import { countMessagesTo, latestLinkFor, uniqueEmail } from './support/mail';
import { signInThroughProvider } from './support/oidc';
import { REFUSE_APP } from './support/servers';
import { enterCode, requestCode, signInAs } from './support/sign-in';

const maskedAs = (email: string) => `${email[0]}***${email.slice(email.indexOf('@'))}`;

test('over a limit of 2 with refuse: the third browser is refused, mails itself the link, and any browser signs out every device with it', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-refuse');
	await withDevices(browser, REFUSE_APP, javaScriptEnabled, 4, async (devices) => {
		const [first, second, third, elsewhere] = devices as [Device, Device, Device, Device];
		await signInAs(first.page, email);
		await signInAs(second.page, email);

		await third.page.goto('/login?redirectTo=%2Faccount');
		await enterCode(third.page, await requestCode(third.page, email));
		await expect(third.page).toHaveURL('/session-limit');
		await expect(third.page.getByTestId('refusal-reason')).toContainText('already signed in on 2 devices');
		expect(sessionCountFor(REFUSE_APP, email)).toBe(2);
		await third.page.goto('/account');
		await expect(third.page).toHaveURL('/login?redirectTo=%2Faccount');
		await third.page.goto('/session-limit');
		// axe runs in the page: with JavaScript off there is nothing to run it in.
		if (javaScriptEnabled) await expectNoAxeViolations(third.page, 'session-limit page');

		const mailed = await countMessagesTo(email);
		await third.page.getByRole('button', { name: 'Email me a link to sign out every device' }).click();
		await expect(third.page.getByTestId('link-sent')).toContainText(`We emailed a link to ${maskedAs(email)}`);
		const link = await latestLinkFor(email, '/sign-out-everywhere', mailed);
		expect(link.origin).toBe(REFUSE_APP.origin);

		// Opened in a browser that never signed in: it asks first, and opening it changes nothing.
		await elsewhere.page.goto(link.pathname + link.search);
		await expect(elsewhere.page.getByRole('button', { name: 'Sign out every device' })).toBeVisible();
		expect(sessionCountFor(REFUSE_APP, email)).toBe(2);
		if (javaScriptEnabled) await expectNoAxeViolations(elsewhere.page, 'sign-out link page');
		await elsewhere.page.getByRole('button', { name: 'Sign out every device' }).click();
		await expect(elsewhere.page.getByTestId('signed-out-everywhere')).toContainText('Done: 2 devices were signed out');
		expect(sessionCountFor(REFUSE_APP, email)).toBe(0);

		await first.page.goto('/account');
		await expect(first.page).toHaveURL('/login?redirectTo=%2Faccount');
		await expect(first.page.getByText('You were signed out everywhere.')).toBeVisible();

		// Used once: the same link now says so and signs nobody out.
		await signInAs(third.page, email);
		await elsewhere.page.goto(link.pathname + link.search);
		await expect(elsewhere.page.getByTestId('link-problem')).toContainText('has been used');
		expect(sessionCountFor(REFUSE_APP, email)).toBe(1);

		await third.page.goto('/account/security');
		for (const [type, text] of [
			['SIGN_IN_REFUSED', 'Sign-in refused (session limit)'],
			['SIGN_OUT_LINK_SENT', 'Emailed a link to sign out every device'],
			['SIGNED_OUT_EVERYWHERE', 'by the emailed link']
		] as const)
			await expect(third.page.locator(`[data-testid="security-event"][data-type="${type}"]`)).toContainText(text);
	});
});

test('an OpenID Connect sign-in over the limit is refused too, and lands on the page that offers the link', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-refuse-oidc');
	await withDevices(browser, REFUSE_APP, javaScriptEnabled, 3, async (devices) => {
		const [first, second, third] = devices as [Device, Device, Device];
		await signInAs(first.page, email);
		await signInAs(second.page, email);

		await signInThroughProvider(third.page, email);
		await expect(third.page).toHaveURL('/session-limit');
		await expect(third.page.getByTestId('refusal-reason')).toContainText('already signed in on 2 devices');
		await expect(third.page.getByRole('button', { name: 'Email me a link to sign out every device' })).toBeVisible();
		expect(sessionCountFor(REFUSE_APP, email)).toBe(2);
	});
});

test('the page offers nothing to a browser that was not refused, and a mangled link is refused plainly', async ({
	page
}) => {
	await page.goto(`${REFUSE_APP.origin}/session-limit`);
	await expect(page.getByTestId('no-refusal')).toBeVisible();
	await expect(page.getByRole('button', { name: /Email me a link/ })).toHaveCount(0);

	const response = await page.goto(`${REFUSE_APP.origin}/sign-out-everywhere?user=nobody&token=${'x'.repeat(43)}`);
	expect(response?.status()).toBe(200);
	await expect(page.getByTestId('link-problem')).toContainText('This link is not valid');
	await expect(page.getByRole('button', { name: 'Sign out every device' })).toHaveCount(0);
});
