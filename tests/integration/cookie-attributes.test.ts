import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFrom, sessionSetCookie, signIn, startTestApp } from './support/app';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';

const REMEMBER_ME_SECONDS = 30 * 24 * 3600;

interface Deployment {
	env: Record<string, string>;
	name: string;
	secure: boolean;
	domain: string | null;
}

const DEPLOYMENTS: Deployment[] = [
	{ env: { ORIGIN: 'http://localhost:5173' }, name: 'latchkey.session_token', secure: false, domain: null },
	{ env: { ORIGIN: 'https://auth.example.test' }, name: '__Secure-latchkey.session_token', secure: true, domain: null },
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
		`name ${name} (__Secure- prefix: ${yesNo(name.startsWith('__Secure-'))})`,
		`HttpOnly: ${yesNo(attributes.has('httponly'))}`,
		`Secure: ${yesNo(attributes.has('secure'))}`,
		`SameSite=${attributes.get('samesite') ?? 'none'}`,
		`Path=${attributes.get('path') ?? 'none'}`,
		`Domain=${attributes.get('domain') ?? 'none'}`,
		`lifetime without remember-me: ${lifetimeOf(attributes)}, with remember-me: ${lifetimeOf(remembered)}`
	].join('; ');
}

describe('the session cookie Better Auth issues, as the validator expects it', () => {
	let scratch: ScratchDatabase;

	beforeAll(async () => {
		scratch = await createScratchDatabase('sqlite');
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
			expect((await app.validator.check(sessionCookieFrom(response))).user).not.toBeNull();
		} finally {
			await app.database.close();
		}
	});
});
