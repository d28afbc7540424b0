import { sessionCountFor } from './support/database';
import { withDevices, type Device } from './support/devices';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { signInThroughProvider } from './support/oidc';
import { LIMIT_APP } from './support/servers';
import { signInAs } from './support/sign-in';

test('three browsers over a limit of 2: the first is signed out on its next request; the devices page says 2 of 2', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-limit');
	await withDevices(browser, LIMIT_APP, javaScriptEnabled, 3, async (devices) => {
		const [first, second, third] = devices as [Device, Device, Device];
		await signInAs(first.page, email);
		await signInAs(second.page, email);
		await second.page.goto('/account/sessions');
		await expect(second.page.getByTestId('session-count')).toContainText('2 of 2');

		await signInAs(third.page, email);
		expect(sessionCountFor(LIMIT_APP, email)).toBe(2);

		// The least recently active, the first browser, is out on its very next request.
		await first.page.goto('/account/sessions');
		await expect(first.page).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
		await second.page.goto('/account/sessions');
		await expect(second.page).toHaveURL('/account/sessions');
		await third.page.goto('/account/sessions');
		await expect(third.page.getByTestId('device')).toHaveCount(2);
		await expect(third.page.getByTestId('session-count')).toContainText('2 of 2');

		await third.page.goto('/account/security');
		const limitEvent = third.page.locator('[data-testid="security-event"][data-type="SESSION_LIMIT_REACHED"]');
		await expect(limitEvent).toHaveCount(1);
		await expect(limitEvent).toContainText('Signed out the oldest device (session limit)');
		await expect(limitEvent).toContainText('1 session · limit 2');
	});
});

test('a sign-in through OpenID Connect over the limit ends the least recently active session too', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('session-limit-oidc');
	await withDevices(browser, LIMIT_APP, javaScriptEnabled, 3, async (devices) => {
		const [first, second, third] = devices as [Device, Device, Device];
		await signInAs(first.page, email);
		await signInAs(second.page, email);

		await signInThroughProvider(third.page, email);
		await expect(third.page.getByText(`You are signed in as ${email}`)).toBeVisible();
		expect(sessionCountFor(LIMIT_APP, email)).toBe(2);

		await first.page.goto('/account/sessions');
		await expect(first.page).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
		await second.page.goto('/account/sessions');
		await expect(second.page.getByTestId('session-count')).toContainText('2 of 2');
	});
});
