import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestEvent } from '@sveltejs/kit';
import { getConfig, type CookieSettings } from '../config';

/**
 * Latchkey's cookies: how each is named, and the session cookie exactly as Better Auth writes
 * and reads it:
 * name `[__Host-|__Secure-]<prefix>.session_token`, value `<token>.<base64 HMAC-SHA256(secret, token)>`,
 * URL-encoded. The validator reads it with these functions; Better Auth issues it under the
 * name sessionCookieName gives (better-auth.ts), and pages set and clear it with
 * setSessionCookie / clearSessionCookie.
 */

const HOST_PREFIX = '__Host-';
const SECURE_PREFIX = '__Secure-';
const SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;

/**
 * `__Host-<prefix>.<suffix>` when secure and for this host only: the browser then accepts it
 * only with Secure, Path=/ and no Domain, so no subdomain can set or shadow it. `__Secure-`
 * when `domain` (COOKIE_DOMAIN) shares it with subdomains (a `__Host-` cookie cannot have a
 * Domain); no prefix over plain http, where browsers refuse both. Only the session cookie is
 * shared: the others are named without a domain.
 */
export function cookieName(
	{ prefix, secure, domain = null }: Pick<CookieSettings, 'prefix' | 'secure'> & { domain?: string | null },
	suffix: string
): string {
	const namePrefix = !secure ? '' : domain ? SECURE_PREFIX : HOST_PREFIX;
	return `${namePrefix}${prefix}.${suffix}`;
}

/** `<prefix>.session_token`, shared with subdomains when COOKIE_DOMAIN is set (see cookieName). */
export function sessionCookieName(settings: CookieSettings): string {
	return cookieName(settings, 'session_token');
}

/** The cookie value before URL-encoding. */
export function signSessionToken(token: string, secret: string): string {
	return `${token}.${hmac(token, secret).toString('base64')}`;
}

/**
 * The session token in `cookieHeader` when its signature is valid, else null.
 * Parses like better-call (first cookie of a name wins, quotes stripped, `%` decoded) so that
 * no header is read one way here and another way by Better Auth.
 */
export function verifiedSessionToken(cookieHeader: string | null, name: string, secret: string): string | null {
	const value = cookieHeader ? firstCookieValue(cookieHeader, name) : null;
	if (!value) return null;
	const dot = value.lastIndexOf('.');
	if (dot < 1) return null;
	const token = value.slice(0, dot);
	const signature = value.slice(dot + 1);
	if (!SIGNATURE.test(signature)) return null;
	return isSignedWith(secret, token, signature) ? token : null;
}

function isSignedWith(secret: string, token: string, signature: string): boolean {
	return timingSafeEqual(Buffer.from(signature, 'base64'), hmac(token, secret));
}

/** True when the header carries a cookie of this name at all, valid or not. */
export function hasCookie(cookieHeader: string | null, name: string): boolean {
	return cookieHeader !== null && firstCookieValue(cookieHeader, name) !== null;
}

function hmac(value: string, secret: string): Buffer {
	return createHmac('sha256', secret).update(value).digest();
}

/** The first value of cookie `name` in a Cookie header, read as better-call reads it. */
export function firstCookieValue(header: string, name: string): string | null {
	let index = 0;
	while (index < header.length) {
		const eq = header.indexOf('=', index);
		if (eq === -1) return null;
		let end = header.indexOf(';', index);
		if (end === -1) end = header.length;
		else if (end < eq) {
			index = header.lastIndexOf(';', eq - 1) + 1;
			continue;
		}
		if (header.slice(index, eq).trim() === name) {
			let value = header.slice(eq + 1, end).trim();
			if (value.codePointAt(0) === 34) value = value.slice(1, -1);
			return decodeIfEncoded(value);
		}
		index = end + 1;
	}
	return null;
}

function decodeIfEncoded(value: string): string {
	try {
		return value.includes('%') ? decodeURIComponent(value) : value;
	} catch {
		return value;
	}
}

/** Attributes for writing the session cookie; no maxAge means a browser-session cookie. */
export function sessionCookieAttributes(settings: CookieSettings, maxAgeSeconds: number | undefined) {
	return {
		path: '/',
		httpOnly: true,
		sameSite: 'lax' as const,
		secure: settings.secure,
		...(settings.domain ? { domain: settings.domain } : {}),
		...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds })
	};
}

/**
 * Writes the session cookie on the answer to this request (the validator's refresh). Without
 * maxAge it is a browser-session cookie.
 */
export function setSessionCookie(
	event: Pick<RequestEvent, 'cookies'>,
	value: string,
	maxAgeSeconds: number | undefined,
	settings: CookieSettings = getConfig().cookies
): void {
	// URL-encoded as Better Auth writes it (`=` as %3D): SvelteKit 3's cookie library would leave
	// `=` and `/` as they are, and the refreshed cookie would not be the one Better Auth issued.
	event.cookies.set(sessionCookieName(settings), value, {
		...sessionCookieAttributes(settings, maxAgeSeconds),
		encode: encodeURIComponent
	});
}

/**
 * Clears the session cookie on the answer to this request, with the attributes it was written
 * with. SvelteKit adds `event.cookies` only to what `resolve` returns (and to redirects), so a
 * handle that answers by itself passes its answer too, and the cookie is cleared on that.
 */
export function clearSessionCookie(
	event: Pick<RequestEvent, 'cookies'>,
	ownAnswer?: Response,
	settings: CookieSettings = getConfig().cookies
): void {
	const name = sessionCookieName(settings);
	if (ownAnswer) {
		ownAnswer.headers.append('set-cookie', event.cookies.serialize(name, '', sessionCookieAttributes(settings, 0)));
	} else {
		event.cookies.delete(name, sessionCookieAttributes(settings, undefined));
	}
}
