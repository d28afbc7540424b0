import { describe, expect, it } from 'vitest';
import { normalizeEmail, waitInWords } from './otp-sign-in';

describe('normalizeEmail', () => {
	it.each([
		['person@example.com', 'person@example.com'],
		['  Person@Example.COM  ', 'person@example.com'],
		['\tfirst.last+tag@sub.example.org\n', 'first.last+tag@sub.example.org'],
		["O'Brien+x@example.com", "o'brien+x@example.com"]
	])('normalizes %j to %j', (raw, expected) => {
		expect(normalizeEmail(raw)).toBe(expected);
	});

	it.each([
		['empty', ''],
		['blank', '   '],
		['no @', 'person.example.com'],
		['nothing before the @', '@example.com'],
		['nothing after the @', 'person@'],
		['no dot in the domain', 'person@localhost'],
		['two @', 'person@@example.com'],
		['a space in the local part', 'first last@example.com'],
		['a space in the domain', 'person@exam ple.com'],
		['a tab inside', 'person@exam\tple.com'],
		['a script tag', '<script>alert(1)</script>@example.com'],
		['an attribute breakout', '"><img src=x onerror=alert(1)>@example.com'],
		['a NUL', 'per\u0000son@example.com'],
		['control characters', 'per\u0001\u001f\u007fson@example.com'],
		['a bidi override', '\u202eperson@example.com'],
		['a zero-width space', 'per\u200bson@example.com'],
		['a backslash', 'per\\son@example.com'],
		['brackets in the domain', 'person@[127.0.0.1].com'],
		['a one-letter top-level domain', 'person@example.c'],
		['a ! in the local part', 'a!b@example.com']
	])('rejects an address with %s', (_label, raw) => {
		expect(normalizeEmail(raw)).toBeNull();
	});

	it('accepts 254 characters and rejects 255', () => {
		const domain = '@example.com';
		const at254 = 'a'.repeat(254 - domain.length) + domain;
		const at255 = 'a'.repeat(255 - domain.length) + domain;

		expect(at254).toHaveLength(254);
		expect(normalizeEmail(at254)).toBe(at254);
		expect(normalizeEmail(at255)).toBeNull();
	});

	it('measures the length after trimming', () => {
		const address = 'a'.repeat(242) + '@example.com';
		expect(normalizeEmail(`   ${address}   `)).toBe(address);
	});
});

describe('waitInWords', () => {
	it('says minutes, rounded up, up to two hours, and hours beyond (a daily limit)', () => {
		expect(waitInWords(1)).toBe('1 minute');
		expect(waitInWords(61)).toBe('2 minutes');
		expect(waitInWords(120 * 60)).toBe('120 minutes');
		expect(waitInWords(120 * 60 + 1)).toBe('3 hours');
		expect(waitInWords(24 * 3600)).toBe('24 hours');
	});
});
