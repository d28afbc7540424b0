import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authRequest, newVisitor, sessionCookieFrom, sessionSetCookie, signIn, startTestApp } from './support/app';
import { sessionRows } from './support/rows';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';

const REMEMBER_ME_SECONDS = 30 * 24 * 3600;

interface Deployment {
	env: Record<string, string>;
	name: string;
	secure: boolean;
	domain: string | null;
}

const DEPLOYMENTS: Deployment[] = [
	{ env: { ORIGIN: 'http://localhost:5173' }, name: 'latchkey.session_token', secure: false, domain: null },
	{ env: { ORIGIN: 'https://auth.example.test' }, name: '__Host-latchkey.session_token', secure: true, domain: null },
	{
		env: { ORIGIN: 'https://auth.example.test', COOKIE_DOMAIN: 'example.test' },
		name: '__Secure-latchkey.session_token',
		secure: true,
		domain: 'example.test'
	},
	{
		env: { ORIGIN: 'https://auth.example.test', COOKIE_PREFIX: 'myapp' },
		name: '__Host-myapp.session_token',
		secure: true,
		domain: null
	},
	{
		env: { ORIGIN: 'http://localhost:5173', COOKIE_PREFIX: 'myapp' },
		name: 'myapp.session_token',
		secure: false,
		domain: null
	},
	{
		env: { ORIGIN: 'https://auth.example.test', COOKIE_PREFIX: 'myapp', COOKIE_DOMAIN: 'example.test' },
		name: '__Secure-myapp.session_token',
		secure: true,
		domain: 'example.test'
	},
	{
		env: { ORIGIN: 'http://app.example.test', COOKIE_DOMAIN: '.example.test' },
		name: 'latchkey.session_token',
		secure: false,
		domain: 'example.test'
	}
];

/** Attribute names (lower-cased) to values, from one Set-Cookie line. */
function attributesOf(setCookie: string): Map<string, string> {
	const [, ...parts] = setCookie.split(';').map((part) => part.trim());
	return new Map(
		parts.map((part) => {
			const [key, ...value] = part.split('=');
			return [key!.toLowerCase(), value.join('=')];
		})
	);
}

/** Max-Age and Expires of a Set-Cookie line; 'none' for a browser-session cookie. */
function lifetimeOf(attributes: Map<string, string>): string {
	if (!attributes.has('max-age') && !attributes.has('expires')) return 'none';
	return `Max-Age=${attributes.get('max-age') ?? 'none'} Expires=${attributes.get('expires') ?? 'none'}`;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

/** What a reviewer checks in a session Set-Cookie line, and in the remember-me one's lifetime. */
function describeCookie(setCookie: string, remembered: Map<string, string>): string {
	const name = setCookie.split('=')[0]!;
	const attributes = attributesOf(setCookie);
	return [
		`name ${name} (__Host- prefix: ${yesNo(name.startsWith('__Host-'))}, __Secure- prefix: ${yesNo(name.startsWith('__Secure-'))})`,
		`HttpOnly: ${yesNo(attributes.has('httponly'))}`,
		`Secure: ${yesNo(attributes.has('secure'))}`,
		`SameSite=${attributes.get('samesite') ?? 'none'}`,
		`Path=${attributes.get('path') ?? 'none'}`,
		`Domain=${attributes.get('domain') ?? 'none'}`,
		`lifetime without remember-me: ${lifetimeOf(attributes)}, with remember-me: ${lifetimeOf(remembered)}`
	].join('; ');
}

/** The Set-Cookie lines of a response that are about a session cookie of any name. */
function sessionCookieLines(response: Response): string[] {
	return response.headers.getSetCookie().filter((line) => /^[^=;]*session_token=/.test(line));
}

describe.each(DIALECTS)('the session cookie Better Auth issues, as the validator expects it, on %s', (dialect) => {
	let scratch: ScratchDatabase;
	let signOuts = 0;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
	});

	afterAll(async () => {
		await scratch?.drop();
	});

	it.each(DEPLOYMENTS)('$env → $name', async ({ env, name, secure, domain }) => {
		const app = await startTestApp(scratch.target, { env });
		try {
			const response = await signIn(app, `cookie-${name}-${domain}@example.com`, { rememberMe: false });
			const setCookie = sessionSetCookie(response);
			const remembered = attributesOf(
				sessionSetCookie(await signIn(app, `cookie-remembered-${name}-${domain}@example.com`, { rememberMe: true }))
			);
			const attributes = attributesOf(setCookie);
			console.log(`cookie attributes (${JSON.stringify(env)}): ${describeCookie(setCookie, remembered)}`);
			expect(setCookie.split('=')[0]).toBe(name);
			expect(attributes.has('httponly')).toBe(true);
			expect(attributes.get('samesite')?.toLowerCase()).toBe('lax');
			expect(attributes.get('path')).toBe('/');
			expect(attributes.has('secure')).toBe(secure);
			expect(attributes.get('domain')?.replace(/^\./, '') ?? null).toBe(domain);
			// A browser-session cookie unless remember-me is ticked (SPEC §3), then the remember-me policy's 30 days.
			expect(lifetimeOf(attributes)).toBe('none');
			expect(remembered.get('max-age')).toBe(String(REMEMBER_ME_SECONDS));

			expect(app.validator.cookieName).toBe(name);
			expect((await app.validator.validateSessionCookie(sessionCookieFrom(response))).user).not.toBeNull();
			// Every session cookie line is under that name: none is left under Better Auth's own.
			expect(new Set(sessionCookieLines(response).map((line) => line.split('=')[0]))).toEqual(new Set([name]));
		} finally {
			await app.database.close();
		}
	});
	it.each(DEPLOYMENTS)(
		'$env: Better Auth reads $name, a new sign-in ends the one it came with, sign-out deletes it',
		async ({ env, name }) => {
			const app = await startTestApp(scratch.target, { env });
			try {
				const email = `cookie-sign-out-${++signOuts}@example.com`;
				const tokens = async () => (await sessionRows(app.database)).map((row) => row.token);
				const tokenOf = (cookie: string) => decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).split('.')[0]!;
				const replaced = sessionCookieFrom(await signIn(app, email, { rememberMe: true }));
				expect(await tokens()).toContain(tokenOf(replaced));

				// Signing in again with that cookie ends its session: it was read under this name.
				const cookie = sessionCookieFrom(await signIn(app, email, { rememberMe: true, cookie: replaced }));
				expect(await tokens()).not.toContain(tokenOf(replaced));
				expect((await app.auth.api.getSession({ headers: new Headers({ cookie }) }))?.user.email).toBe(email);

				const signedOut = await app.auth.handler(authRequest(app, '/sign-out', newVisitor(), { body: {}, cookie }));
				expect(signedOut.status).toBe(200);
				const deletions = sessionCookieLines(signedOut);
				expect(new Set(deletions.map((line) => line.split('=')[0]))).toEqual(new Set([name]));
				expect(attributesOf(deletions.at(-1)!).get('max-age')).toBe('0');
				expect(await tokens()).not.toContain(tokenOf(cookie));
			} finally {
				await app.database.close();
			}
		}
	);
});
