import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Cookies } from '@sveltejs/kit';
import { describe, expect, it, vi } from 'vitest';
import {
	clearSessionCookie,
	hasCookie,
	sessionCookieAttributes,
	sessionCookieName,
	setSessionCookie,
	signSessionToken,
	verifiedSessionToken
} from './cookies';
import type { CookieSettings } from '../config';

// better-call's internals, the code Better Auth reads its session cookie with. Its `exports` map
// does not expose them, so they are imported by file from the installed package.
const betterCallDist = dirname(createRequire(import.meta.url).resolve('better-call'));
async function betterCallModule<T>(file: string): Promise<T> {
	return (await import(/* @vite-ignore */ pathToFileURL(join(betterCallDist, file)).href)) as T;
}
const { getCryptoKey, verifySignature, signCookieValue } = await betterCallModule<{
	getCryptoKey(secret: string): Promise<CryptoKey>;
	verifySignature(signature: string, value: string, key: CryptoKey): Promise<boolean>;
	signCookieValue(value: string, secret: string): Promise<string>;
}>('crypto.mjs');
const { parseCookies } = await betterCallModule<{ parseCookies(header: string): Map<string, string> }>('cookies.mjs');
const { createInternalContext } = await betterCallModule<{
	createInternalContext(
		context: { headers?: Headers },
		options: { options: object; path: string }
	): Promise<{ getSignedCookie(key: string, secret: string): Promise<string | null | false> }>;
}>('context.mjs');

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const OTHER_SECRET = 'another-secret-that-is-long-enough-987654321';
const NAME = 'latchkey.session_token';
const SECURE_NAME = '__Secure-latchkey.session_token';
const HOST_NAME = '__Host-latchkey.session_token';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** base64(HMAC-SHA256(secret, value)), computed without the module under test. */
function signature(value: string, secret = SECRET): string {
	return createHmac('sha256', secret).update(value, 'utf8').digest('base64');
}

/** A Better-Auth-like token whose signature uses `+` or `/`, so URL-encoding and base64url rows change it. */
const TOKEN = (() => {
	for (let i = 0; ; i++) {
		const token = `Zq8Lr2WmX4vN0tYc6KbHs1PjDe9GfUa${i}`;
		if (/[+/]/.test(signature(token))) return token;
	}
})();
const SIG = signature(TOKEN);
const SIGNED = `${TOKEN}.${SIG}`;
const ENCODED = encodeURIComponent(SIGNED);

/** Replaces the base64 character at `index` with the one whose 6-bit value differs by `mask`. */
function flipBits(sig: string, index: number, mask: number): string {
	const flipped = BASE64[BASE64.indexOf(sig[index]!) ^ mask]!;
	return sig.slice(0, index) + flipped + sig.slice(index + 1);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing row can be reproduced. */
function random(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** An 8 KB header of printable ASCII, heavy in the characters cookie parsing cares about. */
function randomHeader(seed: number, length = 8192): string {
	let printable = ';;;;====  %%""..';
	for (let code = 0x20; code <= 0x7e; code++) printable += String.fromCharCode(code);
	const next = random(seed);
	let header = '';
	while (header.length < length) header += printable[Math.floor(next() * printable.length)];
	return header;
}

/**
 * What Better Auth reads from this header: better-call's own parseCookies, getCryptoKey and
 * verifySignature, with getSignedCookie's checks (better-call/dist/context.mjs). `false` (bad
 * signature) and `null` (no usable cookie) both mean "no session", so both become null.
 */
async function betterCallToken(header: string | null, name: string, secret: string): Promise<string | null> {
	const value = header ? parseCookies(header).get(name) : undefined;
	if (!value) return null;
	const dot = value.lastIndexOf('.');
	if (dot < 1) return null;
	const signedValue = value.substring(0, dot);
	const sig = value.substring(dot + 1);
	if (sig.length !== 44 || !sig.endsWith('=')) return null;
	return (await verifySignature(sig, signedValue, await getCryptoKey(secret))) ? signedValue : null;
}

/** The same through better-call's real getSignedCookie on a request context. */
async function betterCallSignedCookie(header: string | null, name: string, secret: string): Promise<string | null> {
	const context = await createInternalContext(header === null ? {} : { headers: new Headers({ cookie: header }) }, {
		options: {},
		path: '/'
	});
	return (await context.getSignedCookie(name, secret)) || null;
}

/** Marks a row where only agreement with better-call is asserted. */
const AGREE = Symbol('agree');

type Row = [label: string, header: string | null, name: string, expected: string | null | typeof AGREE];

const ROWS: Row[] = [
	['valid', `${NAME}=${SIGNED}`, NAME, TOKEN],
	['valid, URL-encoded', `${NAME}=${ENCODED}`, NAME, TOKEN],
	['valid, quoted', `${NAME}="${SIGNED}"`, NAME, TOKEN],
	['valid, quoted and URL-encoded', `${NAME}="${ENCODED}"`, NAME, TOKEN],
	['valid, only the = URL-encoded', `${NAME}=${TOKEN}.${SIG.slice(0, 43)}%3D`, NAME, TOKEN],
	['valid, among other cookies', `theme=dark; ${NAME}=${ENCODED}; other=1`, NAME, TOKEN],
	['valid, after a segment without =', `junk; ${NAME}=${ENCODED}`, NAME, TOKEN],
	['valid, after the bare name without =', `${NAME}; ${NAME}=${ENCODED}`, NAME, TOKEN],
	['valid, __Secure- name looked up as such', `${SECURE_NAME}=${ENCODED}`, SECURE_NAME, TOKEN],
	['valid, __Host- name looked up as such', `${HOST_NAME}=${ENCODED}`, HOST_NAME, TOKEN],
	['valid __Host- cookie after a __Secure- one', `${SECURE_NAME}=x; ${HOST_NAME}=${ENCODED}`, HOST_NAME, TOKEN],
	['valid, name and value with surrounding spaces', `  ${NAME}  =  ${ENCODED}  ; x=1`, NAME, TOKEN],
	[
		'valid, non-ASCII token',
		`${NAME}=${encodeURIComponent(`é-ü-${TOKEN}.${signature(`é-ü-${TOKEN}`)}`)}`,
		NAME,
		`é-ü-${TOKEN}`
	],
	[
		'extra dots in the token, signed over all of them',
		`${NAME}=${encodeURIComponent(`a.b.c.${signature('a.b.c')}`)}`,
		NAME,
		'a.b.c'
	],
	[
		'extra dots in the token, signed over the last part only',
		`${NAME}=${encodeURIComponent(`a.b.c.${signature('c')}`)}`,
		NAME,
		null
	],
	['wrong signature', `${NAME}=${encodeURIComponent(`${TOKEN}.${flipBits(SIG, 10, 1)}`)}`, NAME, null],
	[
		'signature of another secret',
		`${NAME}=${encodeURIComponent(`${TOKEN}.${signature(TOKEN, OTHER_SECRET)}`)}`,
		NAME,
		null
	],
	['signature of another token', `${NAME}=${encodeURIComponent(`${TOKEN}x.${SIG}`)}`, NAME, null],
	['truncated signature, re-padded', `${NAME}=${encodeURIComponent(`${TOKEN}.${SIG.slice(0, 42)}=`)}`, NAME, null],
	['truncated signature', `${NAME}=${encodeURIComponent(`${TOKEN}.${SIG.slice(0, 40)}`)}`, NAME, null],
	['signature without =', `${NAME}=${encodeURIComponent(`${TOKEN}.${SIG.slice(0, 43)}`)}`, NAME, null],
	['signature with = replaced', `${NAME}=${encodeURIComponent(`${TOKEN}.${SIG.slice(0, 43)}A`)}`, NAME, null],
	['signature with an extra =', `${NAME}=${encodeURIComponent(`${TOKEN}.${SIG}=`)}`, NAME, null],
	['base64url alphabet signature', `${NAME}=${TOKEN}.${SIG.replace(/\+/g, '-').replace(/\//g, '_')}`, NAME, null],
	[
		'base64url signature without padding',
		`${NAME}=${TOKEN}.${SIG.replace(/\+/g, '-').replace(/\//g, '_').slice(0, 43)}`,
		NAME,
		null
	],
	['signature with a space inside', `${NAME}=${TOKEN}.${SIG.slice(0, 20)} ${SIG.slice(21)}`, NAME, null],
	['signature with a leading space', `${NAME}=${TOKEN}. ${SIG.slice(1)}`, NAME, null],
	['quote only at the start', `${NAME}="${SIGNED}`, NAME, null],
	['empty value', `${NAME}=`, NAME, null],
	['empty quoted value', `${NAME}=""`, NAME, null],
	['no dot', `${NAME}=${TOKEN}`, NAME, null],
	['no dot, signature glued on', `${NAME}=${encodeURIComponent(TOKEN + SIG)}`, NAME, null],
	['only .sig (signature of the empty token)', `${NAME}=${encodeURIComponent(`.${signature('')}`)}`, NAME, null],
	['token ending in a dot', `${NAME}=${encodeURIComponent(`${TOKEN}..${signature(`${TOKEN}.`)}`)}`, NAME, `${TOKEN}.`],
	[
		'two cookies of the name, valid first',
		`${NAME}=${ENCODED}; ${NAME}=${TOKEN}.${signature(TOKEN, OTHER_SECRET)}`,
		NAME,
		TOKEN
	],
	[
		'two cookies of the name, invalid first',
		`${NAME}=${TOKEN}.${signature(TOKEN, OTHER_SECRET)}; ${NAME}=${ENCODED}`,
		NAME,
		null
	],
	['two cookies of the name, empty first', `${NAME}=; ${NAME}=${ENCODED}`, NAME, null],
	['cookie of another name only', `theme=${ENCODED}`, NAME, null],
	['name with a prefix', `x${NAME}=${ENCODED}`, NAME, null],
	['name with a suffix', `${NAME}x=${ENCODED}`, NAME, null],
	['name in another case', `${NAME.toUpperCase()}=${ENCODED}`, NAME, null],
	['__Secure- cookie on a non-secure name lookup', `${SECURE_NAME}=${ENCODED}`, NAME, null],
	['plain cookie on a __Secure- name lookup', `${NAME}=${ENCODED}`, SECURE_NAME, null],
	['__Secure- cookie on a __Host- name lookup', `${SECURE_NAME}=${ENCODED}`, HOST_NAME, null],
	['__Host- cookie on a __Secure- name lookup', `${HOST_NAME}=${ENCODED}`, SECURE_NAME, null],
	['plain cookie on a __Host- name lookup', `${NAME}=${ENCODED}`, HOST_NAME, null],
	['__host- in another case on a __Host- name lookup', `__host-latchkey.session_token=${ENCODED}`, HOST_NAME, null],
	['garbage: bad percent-encoding', `${NAME}=%E0%A4%A`, NAME, null],
	['valid but with a bad escape appended', `${NAME}=${ENCODED}%`, NAME, null],
	['encoded surrogate half', `${NAME}=%ED%A0%80.${encodeURIComponent(signature('\ud800'))}`, NAME, null],
	['null header', null, NAME, null],
	['empty header', '', NAME, null],
	['header without =', 'garbage', NAME, null],
	['8 KB random header', randomHeader(1), NAME, null],
	['8 KB random header, another seed', randomHeader(2), NAME, null],
	['8 KB random header, then a valid cookie', `${randomHeader(3)}; ${NAME}=${ENCODED}`, NAME, TOKEN],
	[
		'signature differing only in bits base64 decoding discards (lowest bit)',
		`${NAME}=${encodeURIComponent(`${TOKEN}.${flipBits(SIG, 42, 1)}`)}`,
		NAME,
		AGREE
	],
	[
		'signature differing only in bits base64 decoding discards (both low bits)',
		`${NAME}=${encodeURIComponent(`${TOKEN}.${flipBits(SIG, 42, 3)}`)}`,
		NAME,
		AGREE
	],
	[
		'signature differing in the last significant bit',
		`${NAME}=${encodeURIComponent(`${TOKEN}.${flipBits(SIG, 42, 4)}`)}`,
		NAME,
		null
	]
];

describe('sessionCookieName', () => {
	it('is `<prefix>.session_token` without a name prefix over plain http, with or without a domain', () => {
		expect(sessionCookieName({ prefix: 'latchkey', domain: null, secure: false })).toBe('latchkey.session_token');
		expect(sessionCookieName({ prefix: 'my-app_2', domain: 'example.com', secure: false })).toBe(
			'my-app_2.session_token'
		);
	});

	it('is `__Host-` when secure and for this host only, so that no subdomain can set or shadow it', () => {
		expect(sessionCookieName({ prefix: 'latchkey', domain: null, secure: true })).toBe('__Host-latchkey.session_token');
		expect(sessionCookieName({ prefix: 'my-app_2', domain: null, secure: true })).toBe('__Host-my-app_2.session_token');
	});

	it('is `__Secure-` when secure and shared with subdomains, which a `__Host-` cookie cannot be', () => {
		expect(sessionCookieName({ prefix: 'latchkey', domain: 'example.com', secure: true })).toBe(
			'__Secure-latchkey.session_token'
		);
		expect(sessionCookieName({ prefix: 'my-app_2', domain: 'auth.example.com', secure: true })).toBe(
			'__Secure-my-app_2.session_token'
		);
	});
});

describe('signSessionToken', () => {
	it('is the token, a dot and the base64 HMAC-SHA256 of the token', () => {
		const expected = `${TOKEN}.${createHmac('sha256', SECRET).update(TOKEN).digest('base64')}`;
		expect(signSessionToken(TOKEN, SECRET)).toBe(expected);
		expect(signSessionToken(TOKEN, SECRET)).toMatch(/^[^.]+\.[A-Za-z0-9+/]{43}=$/);
		expect(signSessionToken(TOKEN, OTHER_SECRET)).not.toBe(expected);
	});

	it.each([
		[TOKEN, SECRET],
		[TOKEN, OTHER_SECRET],
		['a.b.c', SECRET],
		['é-ü-token', 'sécret-ünicode-0123456789-0123456789'],
		['', SECRET]
	])('matches better-call’s signCookieValue for %j', async (token, secret) => {
		expect(signSessionToken(token, secret)).toBe(decodeURIComponent(await signCookieValue(token, secret)));
	});

	it('is read back by verifiedSessionToken and by better-call', async () => {
		const header = `${NAME}=${encodeURIComponent(signSessionToken(TOKEN, SECRET))}`;
		expect(verifiedSessionToken(header, NAME, SECRET)).toBe(TOKEN);
		expect(await betterCallSignedCookie(header, NAME, SECRET)).toBe(TOKEN);
		expect(verifiedSessionToken(header, NAME, OTHER_SECRET)).toBeNull();
	});
});

describe('verifiedSessionToken agrees with better-call', () => {
	it('has rows that exercise what they claim', () => {
		expect(SIG).toMatch(/[+/]/);
		expect(flipBits(SIG, 42, 1)).not.toBe(SIG);
		expect(Buffer.from(flipBits(SIG, 42, 1), 'base64')).toEqual(Buffer.from(SIG, 'base64'));
		expect(Buffer.from(flipBits(SIG, 42, 4), 'base64')).not.toEqual(Buffer.from(SIG, 'base64'));
		expect(randomHeader(1)).toHaveLength(8192);
		expect(randomHeader(1)).not.toBe(randomHeader(2));
	});

	it.each(ROWS)('%s', async (_label, header, name, expected) => {
		const ours = verifiedSessionToken(header, name, SECRET);
		const reference = await betterCallToken(header, name, SECRET);
		const real = await betterCallSignedCookie(header, name, SECRET);

		expect(real).toBe(reference);
		expect(ours).toBe(reference);
		if (expected !== AGREE) expect(ours).toBe(expected);
	});

	it.each(ROWS)('%s, checked with another secret', async (_label, header, name) => {
		const ours = verifiedSessionToken(header, name, OTHER_SECRET);
		expect(ours).toBe(await betterCallToken(header, name, OTHER_SECRET));
	});

	it('agrees on many random headers that contain the cookie name', async () => {
		const next = random(42);
		const pieces = [`${NAME}=`, `${NAME}="`, ENCODED, SIGNED, SIG, TOKEN, ';', '=', '.', '"', ' ', '%', '%3D', 'x'];
		for (let i = 0; i < 300; i++) {
			let header = '';
			for (let j = 0; j < 12; j++) header += pieces[Math.floor(next() * pieces.length)];
			expect(verifiedSessionToken(header, NAME, SECRET), header).toBe(await betterCallToken(header, NAME, SECRET));
			expect(hasCookie(header, NAME), header).toBe(parseCookies(header).has(NAME));
		}
	});
});

describe('hasCookie', () => {
	it('is true when the header carries the cookie, whatever its value', () => {
		expect(hasCookie(`${NAME}=${ENCODED}`, NAME)).toBe(true);
		expect(hasCookie(`${NAME}=not-signed`, NAME)).toBe(true);
		expect(hasCookie(`theme=dark; ${NAME}=x`, NAME)).toBe(true);
		expect(hasCookie(`${NAME}=`, NAME)).toBe(true);
		expect(hasCookie(` ${NAME} = x `, NAME)).toBe(true);
	});

	it('is false when it does not', () => {
		expect(hasCookie(null, NAME)).toBe(false);
		expect(hasCookie('', NAME)).toBe(false);
		expect(hasCookie('theme=dark', NAME)).toBe(false);
		expect(hasCookie(`${SECURE_NAME}=x`, NAME)).toBe(false);
		expect(hasCookie(`${NAME}=x`, SECURE_NAME)).toBe(false);
		expect(hasCookie(NAME, NAME)).toBe(false);
		expect(hasCookie(`x${NAME}=x`, NAME)).toBe(false);
	});
});

describe('sessionCookieAttributes', () => {
	it('writes a host-only lax httpOnly cookie for the whole site', () => {
		const attributes = sessionCookieAttributes({ prefix: 'latchkey', domain: null, secure: false }, 3600);
		expect(attributes).toEqual({ path: '/', httpOnly: true, sameSite: 'lax', secure: false, maxAge: 3600 });
		expect('domain' in attributes).toBe(false);
	});

	it('follows the settings for secure and domain', () => {
		expect(sessionCookieAttributes({ prefix: 'latchkey', domain: 'example.com', secure: true }, 60)).toEqual({
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: true,
			domain: 'example.com',
			maxAge: 60
		});
	});

	it('has no maxAge at all for a browser-session cookie', () => {
		const attributes = sessionCookieAttributes({ prefix: 'latchkey', domain: 'example.com', secure: true }, undefined);
		expect(attributes).toEqual({ path: '/', httpOnly: true, sameSite: 'lax', secure: true, domain: 'example.com' });
		expect(Object.keys(attributes).sort()).toEqual(['domain', 'httpOnly', 'path', 'sameSite', 'secure']);
	});

	it('keeps a maxAge of 0', () => {
		expect(sessionCookieAttributes({ prefix: 'latchkey', domain: null, secure: false }, 0)).toHaveProperty('maxAge', 0);
	});
});

describe('setSessionCookie and clearSessionCookie', () => {
	const settings: CookieSettings = { prefix: 'latchkey', domain: 'example.com', secure: true };

	function fakeCookies() {
		const fake = {
			set: vi.fn(),
			delete: vi.fn(),
			get: vi.fn(),
			getAll: vi.fn(),
			serialize: vi.fn()
		};
		return { fake, event: { cookies: fake as unknown as Cookies } };
	}

	it('reissues the cookie with its maxAge', () => {
		const { fake, event } = fakeCookies();
		setSessionCookie(event, 'token.sig=', 3600, settings);

		expect(fake.set).toHaveBeenCalledTimes(1);
		expect(fake.set).toHaveBeenCalledWith(SECURE_NAME, 'token.sig=', {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: true,
			domain: 'example.com',
			maxAge: 3600,
			encode: encodeURIComponent
		});
		expect(fake.delete).not.toHaveBeenCalled();
	});

	it('reissues a browser-session cookie without any maxAge', () => {
		const { fake, event } = fakeCookies();
		setSessionCookie(event, 'v', undefined, { ...settings, secure: false, domain: null });

		expect(fake.set).toHaveBeenCalledTimes(1);
		const [name, value, attributes] = fake.set.mock.calls[0]!;
		expect(name).toBe(NAME);
		expect(value).toBe('v');
		expect(attributes).toEqual({
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: false,
			encode: encodeURIComponent
		});
		expect(Object.keys(attributes as object)).not.toContain('maxAge');
		expect(fake.delete).not.toHaveBeenCalled();
	});

	it('clears the cookie with the attributes it was written with', () => {
		const { fake, event } = fakeCookies();
		clearSessionCookie(event, undefined, settings);

		expect(fake.delete).toHaveBeenCalledTimes(1);
		expect(fake.delete).toHaveBeenCalledWith(SECURE_NAME, {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: true,
			domain: 'example.com'
		});
		expect(fake.set).not.toHaveBeenCalled();
	});

	it('writes and clears a `__Host-` cookie with what the prefix demands: Secure, Path=/, no Domain', () => {
		const hostOnly: CookieSettings = { prefix: 'latchkey', domain: null, secure: true };
		const { fake, event } = fakeCookies();
		setSessionCookie(event, 'v', 60, hostOnly);
		clearSessionCookie(event, undefined, hostOnly);

		expect(fake.set).toHaveBeenCalledWith(HOST_NAME, 'v', {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: true,
			maxAge: 60,
			encode: encodeURIComponent
		});
		expect(fake.delete).toHaveBeenCalledWith(HOST_NAME, { path: '/', httpOnly: true, sameSite: 'lax', secure: true });
		for (const [, ...rest] of [...fake.set.mock.calls, ...fake.delete.mock.calls]) {
			expect(Object.keys(rest.at(-1) as object)).not.toContain('domain');
		}
	});

	it("clears the cookie on a handle's own answer, which SvelteKit does not add event.cookies to", () => {
		const { fake, event } = fakeCookies();
		fake.serialize.mockReturnValue(`${SECURE_NAME}=; Max-Age=0`);
		const answer = new Response('unavailable', { status: 503, headers: { 'set-cookie': 'other=1' } });
		clearSessionCookie(event, answer, settings);

		expect(fake.serialize).toHaveBeenCalledWith(SECURE_NAME, '', {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: true,
			domain: 'example.com',
			maxAge: 0
		});
		expect(answer.headers.getSetCookie()).toEqual(['other=1', `${SECURE_NAME}=; Max-Age=0`]);
		expect(fake.delete).not.toHaveBeenCalled();
	});
});
