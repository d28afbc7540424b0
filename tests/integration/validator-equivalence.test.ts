import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionCookieFrom, signIn } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';
import { sessionRows, updateSessionRow } from './support/rows';

interface SignedIn {
	name: string;
	value: string;
	token: string;
	sessionId: string;
}

type CookieCase = [
	description: string,
	expected: 'accepted' | 'rejected',
	make: (session: SignedIn) => Promise<string>
];

interface Deployment {
	label: string;
	env: Record<string, string>;
	/** The session cookie's name there. */
	name: string;
}

const DEPLOYMENTS: Deployment[] = [
	{ label: 'http', env: {}, name: 'latchkey.session_token' },
	{ label: 'https, host only', env: { ORIGIN: 'https://auth.example.test' }, name: '__Host-latchkey.session_token' },
	{
		label: 'https with COOKIE_DOMAIN',
		env: { ORIGIN: 'https://auth.example.test', COOKIE_DOMAIN: 'example.test' },
		name: '__Secure-latchkey.session_token'
	}
];

/** The session cookie's name with each other name prefix (and none), as a forger could send them. */
function otherNames(name: string): string[] {
	const bare = name.replace(/^__(Host|Secure)-/, '');
	return [bare, `__Secure-${bare}`, `__Host-${bare}`, `__secure-${bare}`, `__host-${bare}`].filter(
		(other) => other !== name
	);
}

const sign = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('base64');
const cookieOf = (name: string, raw: string) => `${name}=${encodeURIComponent(raw)}`;

/** The storage's performance mechanisms on (as the app runs) and off: the answers must not change. */
const MECHANISMS = [
	{ mechanisms: 'batch loader on', performance: { batchLoader: true } },
	{ mechanisms: 'batch loader off', performance: { batchLoader: false } }
];

describe.each(DIALECTS)('validator and Better Auth agree on every cookie on %s', (dialect) => {
	describe.each(
		MECHANISMS.flatMap((mechanisms) => DEPLOYMENTS.map((deployment) => ({ ...mechanisms, ...deployment })))
	)('$label: $name, $mechanisms', ({ label, env, name, performance }) => {
		let users = 0;
		const suite = useScratchApp(dialect, { env, performance });

		it('both use the session cookie under that name', async () => {
			const s = await freshSession();
			expect(s.name).toBe(name);
			expect(suite.app.validator.cookieName).toBe(name);
			expect((await suite.app.auth.$context).authCookies.sessionToken.name).toBe(name);
		});

		async function freshSession(): Promise<SignedIn> {
			const email = `equivalence-${dialect}-${label.replace(/\W+/g, '-')}-${++users}@example.com`;
			const cookie = sessionCookieFrom(await signIn(suite.app, email));
			const [name, encoded] = cookie.split('=') as [string, string];
			const value = decodeURIComponent(encoded);
			const token = value.slice(0, value.lastIndexOf('.'));
			const row = (await sessionRows(suite.app.database)).find((candidate) => candidate.token === token)!;
			return { name, value, token, sessionId: row.id };
		}

		const cases: CookieCase[] = [
			['valid', 'accepted', async (s) => cookieOf(s.name, s.value)],
			['valid, not URL-encoded', 'accepted', async (s) => `${s.name}=${s.value}`],
			['valid after an unrelated cookie', 'accepted', async (s) => `theme=dark; ${cookieOf(s.name, s.value)}`],
			[
				'wrong signature',
				'rejected',
				async (s) => cookieOf(s.name, `${s.token}.${sign(s.token, 'x'.repeat(40)).replace(/^./, 'A')}`)
			],
			[
				'signature one character off',
				'rejected',
				async (s) => {
					// A middle character: every one of its bits is significant (the last one's low bits are not).
					const at = s.token.length + 6;
					return cookieOf(s.name, s.value.slice(0, at) + (s.value[at] === 'A' ? 'B' : 'A') + s.value.slice(at + 1));
				}
			],
			['truncated', 'rejected', async (s) => cookieOf(s.name, s.value.slice(0, -5))],
			['token only', 'rejected', async (s) => cookieOf(s.name, s.token)],
			[
				'extra dots',
				'rejected',
				async (s) => cookieOf(s.name, `${s.token}.extra.${sign(s.token, suite.app.config.secret)}`)
			],
			[
				'signed with another secret',
				'rejected',
				async (s) => cookieOf(s.name, `${s.token}.${sign(s.token, 'another-secret-of-32-characters-or-more')}`)
			],
			[
				'unknown token, correctly signed',
				'rejected',
				async (s) => {
					const token = randomBytes(24).toString('base64url');
					return cookieOf(s.name, `${token}.${sign(token, suite.app.config.secret)}`);
				}
			],
			[
				'expired',
				'rejected',
				async (s) => {
					await updateSessionRow(suite.app.database, s.sessionId, { expiresAt: new Date(Date.now() - 1000) });
					return cookieOf(s.name, s.value);
				}
			],
			[
				'revoked (row deleted)',
				'rejected',
				async (s) => {
					await suite.app.auth.api.signOut({
						headers: new Headers({ cookie: cookieOf(s.name, s.value), origin: suite.app.origin })
					});
					return cookieOf(s.name, s.value);
				}
			],
			['wrong prefix', 'rejected', async (s) => cookieOf('better-auth.session_token', s.value)],
			['__Secure- before the name', 'rejected', async (s) => cookieOf(`__Secure-${s.name}`, s.value)],
			...otherNames(name).map((other): CookieCase => [
				`under ${other} instead`,
				'rejected',
				async (s) => cookieOf(other, s.value)
			]),
			...otherNames(name).map((other): CookieCase => [
				`under ${other} first, then under its own name`,
				'accepted',
				async (s) => `${cookieOf(other, 'forged.value')}; ${cookieOf(s.name, s.value)}`
			]),
			[
				'valid cookie second, forged one first',
				'rejected',
				async (s) => `${cookieOf(s.name, `${s.token}.${'A'.repeat(43)}=`)}; ${cookieOf(s.name, s.value)}`
			],
			['empty value', 'rejected', async (s) => `${s.name}=`],
			['bad percent-encoding', 'rejected', async (s) => `${s.name}=${encodeURIComponent(s.value)}%E0%A4%A`]
		];

		it.each(cases)('%s → %s by both', async (_description, expected, make) => {
			const cookie = await make(await freshSession());
			// The validator first: Better Auth deletes an expired row it reads, which would change the second answer.
			const ours = await suite.app.validator.validateSessionCookie(cookie);
			const theirs = await suite.app.auth.api.getSession({ headers: new Headers({ cookie }) });
			expect(ours.session === null ? 'rejected' : 'accepted').toBe(expected);
			expect(theirs === null ? 'rejected' : 'accepted').toBe(expected);
			if (theirs && ours.session) {
				expect(ours.session.id).toBe(theirs.session.id);
				expect(ours.user?.id).toBe(theirs.user.id);
			}
		});

		it('past its absolute lifetime: the validator ends the row, so Better Auth agrees afterwards', async () => {
			const s = await freshSession();
			const cookie = cookieOf(s.name, s.value);
			await updateSessionRow(suite.app.database, s.sessionId, { absoluteExpiresAt: new Date(Date.now() - 1000) });
			expect(await suite.app.auth.api.getSession({ headers: new Headers({ cookie }) })).not.toBeNull();

			expect((await suite.app.validator.validateSessionCookie(cookie)).session).toBeNull();
			expect(await suite.app.auth.api.getSession({ headers: new Headers({ cookie }) })).toBeNull();
		});

		it('returns the same user and session fields as Better Auth for a valid cookie', async () => {
			const s = await freshSession();
			const cookie = cookieOf(s.name, s.value);
			const ours = await suite.app.validator.validateSessionCookie(cookie);
			const theirs = await suite.app.auth.api.getSession({ headers: new Headers({ cookie }) });
			expect(ours.session).toEqual(theirs!.session);
			expect(ours.user).toEqual(theirs!.user);
		});
	});
});
