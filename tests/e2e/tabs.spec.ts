import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { signInAs } from './support/sign-in';

test('signing out in one tab shows in the other when it comes back into focus', async ({ page, context }) => {
	const email = uniqueEmail('tabs');
	await signInAs(page, email);
	const other = await context.newPage();
	await other.goto('/account');
	await expect(other.getByRole('banner')).toContainText(email);

	await page.bringToFront();
	await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL('/login?signedOut');

	await other.bringToFront();
	await other.evaluate(() => window.dispatchEvent(new Event('focus')));
	await expect(other).toHaveURL('/login?redirectTo=%2Faccount');
	await expect(other.getByRole('banner')).not.toContainText(email);
});

test('the first HTML already shows who is signed in (no flash of signed-out content)', async ({ page }) => {
	const email = uniqueEmail('no-flash');
	await signInAs(page, email);
	const html = await (await page.request.get('/')).text();
	expect(html).toContain(email);
	expect(html).not.toContain('>Sign in</a>');
});
