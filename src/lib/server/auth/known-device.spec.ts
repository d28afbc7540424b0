import { describe, expect, it } from 'vitest';
import {
	deviceTag,
	isKnownDevice,
	knownDeviceCookieName,
	knownDevicesFor,
	MAX_ADDRESSES_PER_DEVICE,
	rememberAddress
} from './known-device';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const devices = knownDevicesFor({ prefix: 'latchkey', domain: null, secure: false }, SECRET);
const cookieWith = (value: string) => `other=1; ${devices.cookieName}=${value}; more=2`;

describe('known-device cookie', () => {
	it('is named __Host- when the session cookie is Secure, plainly otherwise', () => {
		expect(knownDeviceCookieName({ prefix: 'latchkey', secure: true })).toBe('__Host-latchkey.known_device');
		expect(knownDeviceCookieName({ prefix: 'myapp', secure: false })).toBe('myapp.known_device');
	});

	it('knows the browser for the address it was given, whatever its case, and for no other', () => {
		const cookie = cookieWith(rememberAddress(devices, null, 'Ada@example.com'));

		expect(isKnownDevice(devices, cookie, 'ada@example.com')).toBe(true);
		expect(isKnownDevice(devices, cookie, 'eve@example.com')).toBe(false);
		expect(cookie).not.toMatch(/ada|example/i);
	});

	it('gives nothing for a forged tag, a tag made with another secret, garbage or no cookie', () => {
		const email = 'ada@example.com';
		for (const value of [
			'A'.repeat(43),
			deviceTag('another-secret-0123456789abcdef0123456', email),
			`${deviceTag(SECRET, email)}x`,
			'%%%',
			''
		]) {
			expect(isKnownDevice(devices, cookieWith(value), email)).toBe(false);
		}
		expect(isKnownDevice(devices, null, email)).toBe(false);
		expect(isKnownDevice(devices, `other.known_device=${deviceTag(SECRET, email)}`, email)).toBe(false);
	});

	it('remembers several addresses, newest first, each once, at most MAX_ADDRESSES_PER_DEVICE', () => {
		let value = '';
		const addresses = Array.from({ length: MAX_ADDRESSES_PER_DEVICE + 2 }, (_, i) => `user${i}@example.com`);
		for (const email of [...addresses, addresses.at(-1)!]) value = rememberAddress(devices, cookieWith(value), email);

		const tags = value.split('.');
		expect(tags).toHaveLength(MAX_ADDRESSES_PER_DEVICE);
		expect(tags[0]).toBe(deviceTag(SECRET, addresses.at(-1)!));
		expect(isKnownDevice(devices, cookieWith(value), addresses[2]!)).toBe(true);
		expect(isKnownDevice(devices, cookieWith(value), addresses[1]!)).toBe(false);
	});

	it('drops what is not a tag when it rewrites the cookie', () => {
		const value = rememberAddress(devices, cookieWith(`junk.${'A'.repeat(43)}.<script>`), 'ada@example.com');
		expect(value.split('.')).toEqual([deviceTag(SECRET, 'ada@example.com'), 'A'.repeat(43)]);
	});
});
