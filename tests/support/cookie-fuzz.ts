/**
 * The hostile Cookie headers both cookie fuzz tests send: the soak one to a production build over
 * HTTP (tests/soak/cookie-fuzz.test.ts), the fast one straight to the session validator
 * (tests/integration/cookie-fuzz.test.ts).
 */
import { createHmac } from 'node:crypto';

/** Real sessions the hostile headers are made from, each `name=value` as a browser sends it back. */
export interface FuzzSessions {
	/** The session cookie's name; `__Secure-` or `__Host-` prefixed, so that prefix confusion has something to confuse. */
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

/** The share of the headers that must differ from one another: a generator that cycles fails it. */
export const MIN_DISTINCT_SHARE = 0.99;

/** How many of `headers` differ from one another. */
export const distinctCount = (headers: string[]) => new Set(headers).size;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/**
 * The characters random text is drawn from.
 * - `header`: what a Cookie header can carry over HTTP. Node's HTTP client (undici) and server
 *   (llhttp) refuse every control character but HTAB in a header value, and both pass obs-text
 *   (0x80–0xFF) through as Latin-1.
 * - `any`: whatever a string handed straight to the validator can hold: C0 controls, DEL, NUL,
 *   Latin-1, the rest of the BMP (lone surrogates included) and astral characters.
 */
export type FuzzCharacters = 'header' | 'any';

const HEADER_CHARACTERS = [0x09, ...range(0x20, 0x7e), ...range(0x80, 0xff)].map((code) => String.fromCharCode(code));
const CONTROL_CODES = [...range(0x00, 0x1f), 0x7f];

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const COOKIE_NAME_CHARACTERS = `${ALPHANUMERIC}_-`;
const BASE64_CHARACTERS = `${ALPHANUMERIC}+/`;

/**
 * Splitmix32: spreads one 32-bit seed over the four words sfc32 starts from, so that nearby
 * seeds give unrelated sequences.
 */
function splitmix32(seed: number): () => number {
	let state = seed | 0;
	return () => {
		state = (state + 0x9e3779b9) | 0;
		let z = state;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
		return (z ^ (z >>> 16)) >>> 0;
	};
}

/**
 * Deterministic pseudo-random numbers in [0, 1), so that a failure can be replayed: sfc32, all
 * in 32-bit integer arithmetic (a period of at least 2^32, no loss of precision).
 */
export function seededRandom(seed: number): () => number {
	const words = splitmix32(seed);
	let [a, b, c, d] = [words(), words(), words(), words()];
	const next = () => {
		const sum = (((a + b) | 0) + d) | 0;
		d = (d + 1) | 0;
		a = b ^ (b >>> 9);
		b = (c + (c << 3)) | 0;
		c = (c << 21) | (c >>> 11);
		c = (c + sum) | 0;
		return (sum >>> 0) / 2 ** 32;
	};
	for (let round = 0; round < 12; round += 1) next();
	return next;
}

const sign = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('base64');
const cookie = (name: string, raw: string) => `${name}=${encodeURIComponent(raw)}`;

/** The cookie value (`<token>.<signature>`) of a `name=value` pair, URL-decoded. */
export const cookieValueOf = (pair: string) => decodeURIComponent(pair.slice(pair.indexOf('=') + 1));

/** Random draws from one seeded sequence. */
function draws(seed: number, characters: FuzzCharacters) {
	const next = seededRandom(seed);
	const below = (n: number) => Math.floor(next() * n);
	const between = (min: number, max: number) => min + below(max - min + 1);
	const pick = <T>(items: readonly T[]) => items[below(items.length)]!;
	const anyCode = (): string => {
		const kind = below(4);
		if (kind === 0) return String.fromCharCode(pick(CONTROL_CODES));
		if (kind === 1) return String.fromCharCode(between(0x20, 0xff));
		if (kind === 2) return String.fromCharCode(between(0x100, 0xffff));
		return String.fromCodePoint(between(0x10000, 0x10ffff));
	};
	const character = characters === 'header' ? () => pick(HEADER_CHARACTERS) : anyCode;
	const string = (length: number, draw: () => string) => {
		let out = '';
		for (let n = 0; n < length; n += 1) out += draw();
		return out;
	};
	/** Random text without `;`, so that it stays inside the one cookie it is the value of. */
	const text = (length: number) => string(length, character).replace(/;/g, ',');
	const word = (alphabet: string, length: number) => string(length, () => alphabet[below(alphabet.length)]!);
	return { below, between, pick, text, word };
}

/**
 * `count` Cookie headers that must all be treated as signed out: random text (with the control
 * and non-ASCII characters `characters` allows), huge values, many cookies of the same name, the
 * valid token with a bad signature or another secret's, percent-encoding tricks, prefix
 * confusion, and the revoked and the expired session's own cookies. Each fixed form comes once
 * on its own, then again and again among other cookies of random names and values, so that
 * nearly every header differs from the others (`MIN_DISTINCT_SHARE`).
 * (Whitespace around a valid cookie's name is not among them: cookie parsing trims it, in
 * browsers and in Better Auth alike.)
 */
export function hostileCookieHeaders(
	sessions: FuzzSessions,
	count: number,
	{ characters, seed = COOKIE_FUZZ_SEED }: { characters: FuzzCharacters; seed?: number }
): string[] {
	const { name, secret, revoked, expired } = sessions;
	const prefix = /^__(?:Secure|Host)-/.exec(name)?.[0];
	if (!prefix) throw new Error(`cookie fuzz needs a __Secure- or __Host- cookie name, not ${name}`);
	const bare = name.slice(prefix.length);
	const confusedNames = [
		bare,
		`__Secure-${bare}`,
		`__Host-${bare}`,
		`__secure-${bare}`,
		`__host-${bare}`,
		`${prefix}${name}`
	];
	const { below, between, pick, text, word } = draws(seed, characters);
	const value = cookieValueOf(sessions.valid);
	const token = value.slice(0, value.lastIndexOf('.'));
	const signature = sign(token, secret);

	const signatureBytes = Buffer.from(signature, 'base64');
	const withCharacterAt = (at: number, replacement: string) =>
		`${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
	/**
	 * The signature with the character at `at` replaced by one that makes it another signature.
	 * Not merely another spelling of it: the last character before the padding carries two spare
	 * bits, and a character that differs only there decodes to the very same signature.
	 */
	const badSignature = (at: number) => {
		const replacements = [...BASE64_CHARACTERS].filter(
			(c) => !Buffer.from(withCharacterAt(at, c), 'base64').equals(signatureBytes)
		);
		return cookie(name, `${token}.${withCharacterAt(at, pick(replacements))}`);
	};
	const encodedControl = (code: number) => `%${code.toString(16).padStart(2, '0').toUpperCase()}`;
	const fixedForms = [
		badSignature(0),
		`${name}=${encodeURIComponent(encodeURIComponent(value))}`,
		`${name}=${value.replace(/\./, '%2E')}%00`,
		...confusedNames.filter((other) => other !== name).map((other) => cookie(other, value)),
		`${name}="${value}`,
		revoked,
		expired,
		`${revoked}; theme=dark`,
		`${expired}; theme=dark`
	];

	/** Random text generators: different on every call. */
	const randomForms: Array<() => string> = [
		() => `${name}=${text(between(1, 200))}`,
		() => text(between(1, 300)),
		() => `${name}=${text(between(4000, 14_000))}`,
		() => Array.from({ length: between(2, 60) }, () => `${name}=${text(60)}`).join('; '),
		() => `${name}=%E0%A4%A${text(10)}`
	];
	/** The valid session mangled, or another's session: the same few forms, varied where they can be. */
	const mangledForms: Array<() => string> = [
		() => badSignature(below(signature.length)),
		() => cookie(name, `${token}.${sign(token, word('0123456789abcdef', 48))}`),
		() => cookie(name, `${token.slice(0, -between(1, 5))}.${signature}`),
		() => `${name}=${value.replace(/\./, '%2E')}${encodedControl(pick(CONTROL_CODES))}`,
		...fixedForms.slice(1).map((form) => () => form)
	];
	/** `pair` among one to four other cookies, at a random place: a browser sends every cookie of the site. */
	const amidOthers = (pair: string) => {
		const others = Array.from(
			{ length: between(1, 4) },
			() => `${word(COOKIE_NAME_CHARACTERS, between(1, 12))}=${text(between(0, 40))}`
		);
		others.splice(below(others.length + 1), 0, pair);
		return others.join('; ');
	};
	const generators = [...randomForms, ...mangledForms.map((form) => () => amidOthers(form()))];
	return [...fixedForms, ...Array.from({ length: count - fixedForms.length }, () => pick(generators)())];
}
