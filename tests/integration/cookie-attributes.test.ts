import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFrom, sessionSetCookie, signIn, startTestApp } from './support/app';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';

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
			const response = await signIn(app, `cookie-${name}-${domain}@example.com`);
			const setCookie = sessionSetCookie(response);
			expect(setCookie.split('=')[0]).toBe(name);

			const attributes = attributesOf(setCookie);
			expect(attributes.has('httponly')).toBe(true);
			expect(attributes.get('samesite')?.toLowerCase()).toBe('lax');
			expect(attributes.get('path')).toBe('/');
			expect(attributes.has('secure')).toBe(secure);
			expect(attributes.get('domain')?.replace(/^\./, '') ?? null).toBe(domain);

			expect(app.validator.cookieName).toBe(name);
			expect((await app.validator.check(sessionCookieFrom(response))).user).not.toBeNull();
		} finally {
			await app.database.close();
		}
	});
});
