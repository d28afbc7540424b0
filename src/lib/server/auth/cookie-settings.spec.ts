import { describe, expect, it } from 'vitest';
import { DEFAULT_COOKIE_PREFIX, parseCookieDomain, parseCookiePrefix } from './cookie-settings';

describe('parseCookiePrefix', () => {
	it('defaults to latchkey', () => {
		expect(DEFAULT_COOKIE_PREFIX).toBe('latchkey');
		expect(parseCookiePrefix(undefined)).toBe('latchkey');
		expect(parseCookiePrefix('')).toBe('latchkey');
		expect(parseCookiePrefix('  ')).toBe('latchkey');
	});

	it.each([
		['myapp', 'myapp'],
		[' myapp ', 'myapp'],
		['My-App_2', 'My-App_2'],
		['_x', '_x'],
		['a'.repeat(64), 'a'.repeat(64)]
	])('accepts %j', (raw, prefix) => {
		expect(parseCookiePrefix(raw)).toBe(prefix);
	});

	it.each(['my app', 'a;b', 'a=b', 'a.b', '__Secure-x', '__Host-x', '__x', 'a'.repeat(65), 'é', 'caf\u00e9'])(
		'refuses %j, naming COOKIE_PREFIX',
		(raw) => {
			expect(() => parseCookiePrefix(raw)).toThrow(
				`COOKIE_PREFIX="${raw}" must be 1-64 letters, digits, - or _ (and not start with __)`
			);
		}
	);
});

describe('parseCookieDomain', () => {
	const ORIGIN = 'https://auth.example.com';

	it('is null when unset', () => {
		expect(parseCookieDomain(undefined, ORIGIN)).toBeNull();
		expect(parseCookieDomain('', ORIGIN)).toBeNull();
		expect(parseCookieDomain('  ', ORIGIN)).toBeNull();
	});

	it.each([
		['example.com', 'example.com'],
		['.example.com', 'example.com'],
		[' Example.COM ', 'example.com'],
		['auth.example.com', 'auth.example.com']
	])('accepts %j for https://auth.example.com', (raw, domain) => {
		expect(parseCookieDomain(raw, ORIGIN)).toBe(domain);
	});

	it('accepts the host of an origin with a port', () => {
		expect(parseCookieDomain('example.com', 'http://app.example.com:8080')).toBe('example.com');
	});

	it.each([
		'other.com',
		'ample.com',
		'exa mple.com',
		'sub.auth.example.com',
		'example.com.',
		'example.com;x',
		'..example.com'
	])('refuses %j, naming COOKIE_DOMAIN and the host', (raw) => {
		expect(() => parseCookieDomain(raw, ORIGIN)).toThrow(
			`COOKIE_DOMAIN="${raw}" must be the host of ORIGIN (auth.example.com) or a parent domain of it`
		);
	});
});
