import { expect, type Page } from '@playwright/test';
import { CODE_DIGITS, countMessagesTo, latestCodeFor } from './mail';

/** The code step of /login, saying where the code went and what it is like. */
export async function expectCodeStep(page: Page, email: string, message?: string): Promise<void> {
	await expect(page.locator('p', { hasText: 'We sent a sign-in code to' }), message).toHaveText(
		`We sent a sign-in code to ${email}. It has ${CODE_DIGITS} digits and works for 5 minutes, in this browser only.`
	);
}

/** Asks for a code on /login (already open) and returns it once the SMTP sink has it. */
export async function requestCode(page: Page, email: string): Promise<string> {
	const before = await countMessagesTo(email);
	await page.getByLabel('Email address').fill(email);
	await page.getByRole('button', { name: 'Email me a code' }).click();
	await expectCodeStep(page, email);
	return latestCodeFor(email, before);
}

export async function enterCode(page: Page, code: string, rememberMe = false): Promise<void> {
	await page.getByLabel('Sign-in code').fill(code);
	if (rememberMe) await page.getByLabel('Remember me on this device').check();
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The whole sign-in through the form, landing on `/`. */
export async function signInAs(page: Page, email: string, options: { rememberMe?: boolean } = {}): Promise<void> {
	await page.goto('/login');
	await enterCode(page, await requestCode(page, email), options.rememberMe);
	await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
}
