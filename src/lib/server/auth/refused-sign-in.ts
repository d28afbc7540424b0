import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import type { CookieSettings } from '../config';
import { cookieName } from './cookies';

/**
 * A sign-in refused by the session limit (MAX_SESSIONS_PER_USER with SESSION_LIMIT_ACTION=refuse):
 * the browser has just proved who it is, a code or a provider, but holds no session. It carries
 * this signed cookie naming the user instead, for a short while, so that /session-limit can offer
 * it the way out (sign-out-link.ts) and nothing else: the cookie signs in nobody.
 */

/** How long a refused browser may ask for a link. */
export const REFUSED_SIGN_IN_SECONDS = 15 * 60;

const REFUSED_VALUE = /^(\d+)\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{1,64})$/;

/** The refused browser's cookie: HttpOnly, sent with same-site navigations (the provider's redirect back). */
export interface RefusedSignInCookie {
	name: string;
	secure: boolean;
}

export function refusedSignInCookie(settings: Pick<CookieSettings, 'prefix' | 'secure'>): RefusedSignInCookie {
	return { name: cookieName(settings, 'sign_in_refused'), secure: settings.secure };
}

function refusedCookieAttributes(cookie: RefusedSignInCookie) {
	return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: cookie.secure };
}

/** An HMAC under the app secret of `parts`, for `purpose` only: a digest made for one use never fits another. */
export function sign(secret: string, purpose: string, ...parts: string[]): string {
	return createHmac('sha256', secret)
		.update([`latchkey ${purpose}`, ...parts].join('\0'))
		.digest('base64url');
}

export function sameDigest(a: string, b: string): boolean {
	return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The cookie that marks a browser as refused for `userId` until REFUSED_SIGN_IN_SECONDS from
 * `now`: its name, value and attributes, for whichever response reaches the browser to set.
 */
export function refusedSignIn(cookie: RefusedSignInCookie, secret: string, userId: string, now: number) {
	const expiresAt = now + REFUSED_SIGN_IN_SECONDS * 1000;
	return {
		name: cookie.name,
		value: `${expiresAt}.${sign(secret, 'refused sign-in', String(expiresAt), userId)}.${userId}`,
		attributes: { ...refusedCookieAttributes(cookie), maxAge: REFUSED_SIGN_IN_SECONDS }
	};
}

/** The user this browser was refused as, when its cookie is validly signed and not yet expired. */
export function refusedUser(
	cookies: Pick<Cookies, 'get'>,
	cookie: RefusedSignInCookie,
	secret: string,
	now: number
): string | null {
	const match = REFUSED_VALUE.exec(cookies.get(cookie.name) ?? '');
	if (!match) return null;
	const [, expiresAt, digest, userId] = match as unknown as [string, string, string, string];
	if (!sameDigest(digest, sign(secret, 'refused sign-in', expiresAt, userId))) return null;
	return Number(expiresAt) > now ? userId : null;
}

export function clearRefusedSignIn(cookies: Pick<Cookies, 'delete'>, cookie: RefusedSignInCookie): void {
	cookies.delete(cookie.name, refusedCookieAttributes(cookie));
}
