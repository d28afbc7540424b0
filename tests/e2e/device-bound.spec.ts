import type { APIRequestContext, Page, Response } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { LIMIT_APP, OIDC_PROVIDER, SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

/**
 * Device-bound sessions over HTTP on the production build (LIMIT_APP has DEVICE_BOUND_SESSIONS=on):
 * the headers a sign-in answers with, the routes, the cookies the browser keeps. Chromium itself
 * does not register here (docs/decisions/0019-device-bound-sessions.md), so the test signs the
 * proofs with a Web Crypto key of its own, as the browser would, through the page's cookie jar.
 */
const CREDENTIAL = '__Host-latchkey.device_credential';
const SESSION = '__Host-latchkey.session_token';
/** The browser sends its DBSC requests with the page's origin, which SvelteKit's origin check wants on a POST. */
const SAME_ORIGIN = { origin: LIMIT_APP.origin };

function invitationsOf(page: Page): string[] {
	const seen: string[] = [];
	page.on('response', (response: Response) => {
		const header = response.headers()['secure-session-registration'];
		if (header) seen.push(header);
	});
	return seen;
}

async function proof(keys: CryptoKeyPair, challenge: string, aud: string, withKey: boolean): Promise<string> {
	const jwk = withKey ? await crypto.subtle.exportKey('jwk', keys.publicKey) : undefined;
	const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const input = `${part({ alg: 'ES256', typ: 'dbsc+jwt', ...(jwk ? { jwk } : {}) })}.${part({ aud, jti: challenge })}`;
	const signature = await crypto.subtle.sign(
		{ name: 'ECDSA', hash: 'SHA-256' },
		keys.privateKey,
		new TextEncoder().encode(input)
	);
	return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

async function register(request: APIRequestContext, invitation: string, keys: CryptoKeyPair) {
	const [, path, challenge] = /^\(ES256 RS256\);path="([^"]+)";challenge="([^"]+)"$/.exec(invitation)!;
	return request.post(path!, {
		headers: {
			...SAME_ORIGIN,
			'secure-session-response': await proof(keys, challenge!, `${LIMIT_APP.origin}${path}`, true)
		}
	});
}

test('a sign-in by code invites registration; the bound session needs its credential, which a proof renews', async ({
	browser
}) => {
	const context = await browser.newContext({ baseURL: LIMIT_APP.origin });
	try {
		const page = await context.newPage();
		const invitations = invitationsOf(page);
		const email = uniqueEmail('dbsc');
		await signInAs(page, email);
		expect(invitations).toHaveLength(1);

		const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
		const registered = await register(context.request, invitations[0]!, keys);
		expect(registered.status()).toBe(200);
		const config = (await registered.json()) as { session_identifier: string; refresh_url: string };
		expect(config.refresh_url).toBe('/device-session/refresh');
		const names = async () => (await context.cookies()).map((cookie) => cookie.name).sort();
		expect(await names()).toContain(CREDENTIAL);

		await page.goto('/account/sessions');
		await expect(page.getByTestId('bound')).toHaveCount(1);
		await page.goto('/account/security');
		await expect(page.locator('[data-testid="security-event"][data-type="DEVICE_BOUND"]')).toHaveCount(1);

		// Without its credential the session is refused, and its cookie stays for the device.
		await context.clearCookies({ name: CREDENTIAL });
		await page.goto('/account');
		await expect(page).toHaveURL('/login?redirectTo=%2Faccount');
		expect(await names()).toContain(SESSION);

		// The draft's refresh: 403 with a challenge, then a proof over it renews the credential.
		// Both headers bare, as Chromium sends them.
		const sessionId = { ...SAME_ORIGIN, 'sec-secure-session-id': config.session_identifier };
		const challenged = await context.request.post(config.refresh_url, { headers: sessionId });
		expect(challenged.status()).toBe(403);
		const [, challenge] = /^"([^"]+)";id="/.exec(challenged.headers()['secure-session-challenge']!)!;
		const renewed = await context.request.post(config.refresh_url, {
			headers: {
				...sessionId,
				'secure-session-response': await proof(keys, challenge!, `${LIMIT_APP.origin}${config.refresh_url}`, false)
			}
		});
		expect(renewed.status()).toBe(200);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');

		// Signing out ends the binding: the browser is told to stop refreshing.
		await page.getByRole('button', { name: 'Sign out' }).first().click();
		await expect(page).toHaveURL(/\/login/);
		const ended = await context.request.post(config.refresh_url, { headers: sessionId });
		expect(await ended.json()).toEqual({ session_identifier: config.session_identifier, continue: false });
	} finally {
		await context.close();
	}
});

test('an OpenID Connect sign-in invites registration too', async ({ browser }) => {
	const context = await browser.newContext({ baseURL: LIMIT_APP.origin });
	try {
		const page = await context.newPage();
		const invitations = invitationsOf(page);
		const email = uniqueEmail('dbsc-oidc');
		const identity = await fetch(`http://127.0.0.1:${OIDC_PROVIDER.controlPort}/identity`, {
			method: 'POST',
			body: JSON.stringify({ sub: `dbsc-${email}`, email, email_verified: true, name: 'DBSC Test' })
		});
		expect(identity.ok).toBe(true);
		await page.goto('/login');
		await page.getByRole('button', { name: `Continue with ${OIDC_PROVIDER.name}` }).click();
		await expect(page.getByText(`You are signed in as ${email}`)).toBeVisible();
		expect(invitations).toHaveLength(1);
	} finally {
		await context.close();
	}
});

test('with DEVICE_BOUND_SESSIONS off a sign-in invites nothing and registration does not exist', async ({
	browser
}) => {
	const context = await browser.newContext({ baseURL: SMTP_APP.origin });
	try {
		const page = await context.newPage();
		const invitations = invitationsOf(page);
		await signInAs(page, uniqueEmail('dbsc-off'));
		expect(invitations).toEqual([]);
		const registration = await context.request.post('/device-session/register', {
			headers: { origin: SMTP_APP.origin }
		});
		expect(registration.status()).toBe(404);
	} finally {
		await context.close();
	}
});
