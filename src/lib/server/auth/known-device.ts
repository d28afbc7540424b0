import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BetterAuthPlugin } from 'better-auth';
import { createAuthMiddleware } from 'better-auth/api';
import type { CookieSettings } from '../config';
import { cookieName, firstCookieValue } from './cookies';

/**
 * The "known device" cookie (OWASP, "slow down online guessing with device cookies"): a browser
 * that has signed in to an address carries a tag for it, an HMAC of the address under the app
 * secret, so the address never appears in the cookie and nobody without the secret can make a
 * tag. The sign-in limits let such a browser past the per-address ceiling that strangers on
 * many networks can exhaust (otp-sign-in.ts).
 */
export interface KnownDevices {
	cookieName: string;
	secret: string;
}

/** Browsers cap cookie lifetimes near 400 days; a year keeps every browser's copy alike. */
export const KNOWN_DEVICE_MAX_AGE_SECONDS = 365 * 24 * 3600;
/** Addresses one browser is remembered for, newest first; older ones fall out. */
export const MAX_ADDRESSES_PER_DEVICE = 8;
const TAG = /^[A-Za-z0-9_-]{43}$/;
const SEPARATOR = '.';

/**
 * `__Host-` whenever the session cookie is Secure: the cookie is never given a Domain, so no
 * subdomain can set or shadow it.
 */
export function knownDeviceCookieName(settings: Pick<CookieSettings, 'prefix' | 'secure'>): string {
	return cookieName({ prefix: settings.prefix, secure: settings.secure }, 'known_device');
}

export function knownDevicesFor(settings: CookieSettings, secret: string): KnownDevices {
	return { cookieName: knownDeviceCookieName(settings), secret };
}

/** The tag that marks a browser as having signed in to `email`. */
export function deviceTag(secret: string, email: string): string {
	return createHmac('sha256', secret).update(`latchkey known device\0${email.toLowerCase()}`).digest('base64url');
}

function tagsIn(value: string | null): string[] {
	return (value ?? '').split(SEPARATOR).filter((tag) => TAG.test(tag));
}

/** True when the request's cookie carries a valid tag for `email`; forged or other addresses' tags give nothing. */
export function isKnownDevice(devices: KnownDevices, cookieHeader: string | null, email: string): boolean {
	const value = cookieHeader ? firstCookieValue(cookieHeader, devices.cookieName) : null;
	const expected = Buffer.from(deviceTag(devices.secret, email));
	return tagsIn(value).some((tag) => timingSafeEqual(Buffer.from(tag), expected));
}

/** The cookie's new value: `email`'s tag first, then the others it carried, at most MAX_ADDRESSES_PER_DEVICE. */
export function rememberAddress(devices: KnownDevices, cookieHeader: string | null, email: string): string {
	const tag = deviceTag(devices.secret, email);
	const carried = tagsIn(cookieHeader ? firstCookieValue(cookieHeader, devices.cookieName) : null);
	return [tag, ...carried.filter((other) => other !== tag)].slice(0, MAX_ADDRESSES_PER_DEVICE).join(SEPARATOR);
}

export function knownDeviceCookieAttributes(settings: Pick<CookieSettings, 'secure'>) {
	return {
		path: '/',
		httpOnly: true,
		sameSite: 'lax' as const,
		secure: settings.secure,
		maxAge: KNOWN_DEVICE_MAX_AGE_SECONDS
	};
}

/**
 * Every sign-in that creates a session (email code, OAuth callback, re-authentication) marks
 * the browser as known for the user's address. Runs before sveltekitCookies, which copies the
 * header into the form action's response.
 */
export function knownDeviceCookie(settings: CookieSettings, secret: string) {
	const devices = knownDevicesFor(settings, secret);
	return {
		id: 'latchkey-known-device-cookie',
		hooks: {
			after: [
				{
					matcher: () => true,
					handler: createAuthMiddleware(async (ctx) => {
						const email = ctx.context.newSession?.user.email;
						if (!email) return;
						const cookieHeader = ctx.headers?.get('cookie') ?? ctx.request?.headers.get('cookie') ?? null;
						const value = rememberAddress(devices, cookieHeader, email);
						ctx.setCookie(devices.cookieName, value, knownDeviceCookieAttributes(settings));
					})
				}
			]
		}
	} satisfies BetterAuthPlugin;
}
