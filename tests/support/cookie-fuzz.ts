/**
 * The hostile Cookie headers both cookie fuzz tests send: the soak one to a production build over
 * HTTP (tests/soak/cookie-fuzz.test.ts), the fast one straight to the session validator
 * (tests/integration/cookie-fuzz.test.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Real sessions the hostile headers are made from, each `name=value` as a browser sends it back. */
export interface FuzzSessions {
	/** The session cookie's name; `__Host-` or `__Secure-` prefixed, so that prefix confusion has something to confuse. */
	name: string;
	/** A signed-in session: every header is a mangled form of it, never it untouched. */
	valid: string;
	/** A session that was signed out or revoked. */
	revoked: string;
	/** A session whose row is past its expiry. */
	expired: string;
	/** The secret the server signs cookies with. */
	secret: string;
}

/** The seed both tests use, so that a failure can be replayed. */
export const COOKIE_FUZZ_SEED = 20261127;

const sign = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('base64');
const cookie = (name: string, raw: string) => `${name}=${encodeURIComponent(raw)}`;

/** The cookie value (`<token>.<signature>`) of a `name=value` pair, URL-decoded. */
export const cookieValueOf = (pair: string) => decodeURIComponent(pair.slice(pair.indexOf('=') + 1));

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number) {
	let state = seed;
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
		return state / 2 ** 31;
	};
}

/**
 * `count` Cookie headers that must all be treated as signed out: random bytes, huge values, many
 * cookies of the same name, the valid token with a bad signature or another secret's, percent-
 * encoding tricks, prefix confusion, and the revoked and the expired session's own cookies.
 * (Whitespace around a valid cookie's name is not among them: cookie parsing trims it, in
 * browsers and in Better Auth alike.)
 */
export function hostileCookieHeaders(sessions: FuzzSessions, count: number, seed = COOKIE_FUZZ_SEED): string[] {
	const { name, secret, revoked, expired } = sessions;
	const prefix = ['__Host-', '__Secure-'].find((candidate) => name.startsWith(candidate));
	if (!prefix) throw new Error(`cookie fuzz needs a __Host- or __Secure- cookie name, not ${name}`);
	const bare = name.slice(prefix.length);
	const otherPrefix = prefix === '__Host-' ? '__Secure-' : '__Host-';
	const next = random(seed);
	const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
	const value = cookieValueOf(sessions.valid);
	const token = value.slice(0, value.lastIndexOf('.'));
	const printable = (length: number) =>
		Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(next() * 94)))
			.join('')
			.replace(/;/g, ',');
	const generators: Array<() => string> = [
		() => `${name}=${printable(1 + Math.floor(next() * 200))}`,
		() => printable(1 + Math.floor(next() * 300)),
		() => `${name}=${printable(4000 + Math.floor(next() * 10_000))}`,
		() => Array.from({ length: 2 + Math.floor(next() * 60) }, () => `${name}=${printable(60)}`).join('; '),
		() => cookie(name, `${token}.${sign(token, secret).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`),
		() => cookie(name, `${token}.${sign(token, randomBytes(24).toString('hex'))}`),
		() => cookie(name, `${token.slice(0, -1 - Math.floor(next() * 5))}.${sign(token, secret)}`),
		() => `${name}=${encodeURIComponent(encodeURIComponent(value))}`,
		() => `${name}=${value.replace(/\./, '%2E')}%00`,
		() => `${name}=%E0%A4%A${printable(10)}`,
		() => cookie(pick([bare, `${otherPrefix}${bare}`, `${prefix.toLowerCase()}${bare}`]), value),
		() => cookie(`__Secure-${name}`, value),
		() => `${name}="${value}`,
		() => pick([revoked, expired]),
		() => `${pick([revoked, expired])}; theme=dark`
	];
	return Array.from({ length: count }, () => pick(generators)());
}
