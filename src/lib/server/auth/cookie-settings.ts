import { isIP } from 'node:net';

/**
 * How the session cookie is named and scoped, as the environment sets it. A leaf module:
 * config.ts parses these without importing the cookie code, which reads the configuration.
 */
export interface CookieSettings {
	/** COOKIE_PREFIX: the part before `.session_token`. */
	prefix: string;
	/** COOKIE_DOMAIN: set to share the cookie across subdomains; null for this host only. */
	domain: string | null;
	/**
	 * Secure attribute and a `__Host-` or `__Secure-` name prefix: on whenever the public origin
	 * is https, and always in a production build (or under NODE_ENV=production).
	 */
	secure: boolean;
}

export const DEFAULT_COOKIE_PREFIX = 'latchkey';

const COOKIE_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseCookiePrefix(raw: string | undefined): string {
	const prefix = raw?.trim() || DEFAULT_COOKIE_PREFIX;
	if (!COOKIE_PREFIX_PATTERN.test(prefix) || prefix.startsWith('__')) {
		throw new Error(`COOKIE_PREFIX="${raw}" must be 1-64 letters, digits, - or _ (and not start with __)`);
	}
	return prefix;
}

/**
 * COOKIE_DOMAIN must contain the origin's host, or browsers would drop every session cookie.
 * A bare top-level domain and IP hosts are refused too; other public suffixes (co.uk) are not
 * detected here, since that needs the Public Suffix List.
 */
export function parseCookieDomain(raw: string | undefined, origin: string): string | null {
	const domain = raw?.trim().replace(/^\./, '').toLowerCase();
	if (!domain) return null;
	const host = new URL(origin).hostname;
	if (isIP(host) || host.startsWith('[')) {
		throw new Error(`COOKIE_DOMAIN cannot be used when ORIGIN is an IP address (${host})`);
	}
	const parentOrSelf = host === domain || host.endsWith(`.${domain}`);
	if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain) || !parentOrSelf) {
		throw new Error(`COOKIE_DOMAIN="${raw}" must be the host of ORIGIN (${host}) or a parent domain of it`);
	}
	return domain;
}
