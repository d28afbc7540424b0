import { describe, expect, it } from 'vitest';
import { sessionRevoker } from '../../src/lib/server/auth/sessions';
import { cookieValueOf, distinctCount, hostileCookieHeaders, MIN_DISTINCT_SHARE } from '../support/cookie-fuzz';
import { sessionCookieFrom, signIn } from './support/app';
import { DIALECTS } from './support/databases';
import { sessionRows, updateSessionRow } from './support/rows';
import { useScratchApp } from './support/suite';

const HEADERS_TO_TRY = 10_000;

/**
 * The fast form of tests/soak/cookie-fuzz.test.ts: the same hostile headers, straight into the
 * validator every request goes through (hooks.server.ts), without HTTP. An https origin, so the
 * cookie is `__Host-` prefixed as in production without COOKIE_DOMAIN. Without HTTP in the way,
 * the random text may hold any character a string can: control characters, NUL and code points
 * past Latin-1 included.
 */
describe.each(DIALECTS)('cookie fuzz against the session validator on %s', (dialect) => {
	const suite = useScratchApp(dialect, { env: { ORIGIN: 'https://auth.example.test' } });

	async function signedInCookie(who: string): Promise<string> {
		return sessionCookieFrom(await signIn(suite.app, `fuzz-${who}-${dialect}@example.com`));
	}

	async function sessionIdOf(cookie: string): Promise<string> {
		const token = cookieValueOf(cookie).split('.')[0];
		return (await sessionRows(suite.app.database)).find((row) => row.token === token)!.id;
	}

	async function sessionCount(): Promise<number> {
		return (await sessionRows(suite.app.database)).length;
	}

	it(`${HEADERS_TO_TRY} hostile Cookie headers, nearly all distinct: no error, no session created, nobody signed in`, async () => {
		const valid = await signedInCookie('valid');
		const revoked = await signedInCookie('revoked');
		const expired = await signedInCookie('expired');
		await sessionRevoker(suite.app.services)(cookieValueOf(revoked).split('.')[0]!, { log: null });
		await updateSessionRow(suite.app.database, await sessionIdOf(expired), { expiresAt: new Date(Date.now() - 1000) });
		const { validator, config } = suite.app;
		const headers = hostileCookieHeaders(
			{ name: validator.cookieName, valid, revoked, expired, secret: config.secret },
			HEADERS_TO_TRY,
			{ characters: 'any' }
		);
		const distinct = distinctCount(headers);

		const before = await sessionCount();
		const errors: string[] = [];
		const wronglySignedIn: string[] = [];
		for (const header of headers) {
			try {
				if ((await validator.validateSessionCookie(header)).user) wronglySignedIn.push(header.slice(0, 80));
			} catch (error) {
				errors.push(`${header.slice(0, 80)}: ${error}`);
			}
		}
		const after = await sessionCount();
		const control = await validator.validateSessionCookie(valid);

		console.log(
			`cookie fuzz (validator, ${dialect}): ${headers.length} headers, ${distinct} distinct; ${errors.length} errors; sessions ${before} → ${after}; ${wronglySignedIn.length} signed in; untouched valid cookie signed in: ${control.user ? 'yes' : 'no'}`
		);
		expect(distinct, 'distinct headers').toBeGreaterThanOrEqual(MIN_DISTINCT_SHARE * HEADERS_TO_TRY);
		expect(errors).toEqual([]);
		expect(wronglySignedIn).toEqual([]);
		expect(after).toBe(before);
		expect(control.user?.email).toBe(`fuzz-valid-${dialect}@example.com`);
	});
});
