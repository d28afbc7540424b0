import { expect, type Page } from '@playwright/test';
import { OIDC_PROVIDER } from './servers';

let subjects = 0;

/** Tells the test provider (oidc-provider.ts) who signs in next: a subject of its own, verified by default. */
export async function providerSignsIn(email: string, emailVerified = true) {
	subjects += 1;
	const identity = {
		sub: `subject-${Date.now()}-${subjects}`,
		email,
		email_verified: emailVerified,
		name: 'Test User'
	};
	await postToProvider('/identity', identity);
	return identity;
}

export async function postToProvider(path: string, body: unknown = {}): Promise<void> {
	const response = await fetch(`http://127.0.0.1:${OIDC_PROVIDER.controlPort}${path}`, {
		method: 'POST',
		body: JSON.stringify(body)
	});
	expect(response.ok).toBe(true);
}

/** Presses the provider's button on /login (already open). */
export async function continueWithProvider(page: Page, options: { rememberMe?: boolean } = {}): Promise<void> {
	if (options.rememberMe) await page.getByLabel('Remember me on this device').check();
	await page.getByRole('button', { name: `Continue with ${OIDC_PROVIDER.name}` }).click();
}

/** Opens /login and signs in through the provider as `email` (a verified address). */
export async function signInThroughProvider(page: Page, email: string): Promise<void> {
	await providerSignsIn(email);
	await page.goto('/login');
	await continueWithProvider(page);
}
