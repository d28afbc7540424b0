import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './otp-sign-in';

describe('normalizeEmail', () => {
	it.each([
		['person@example.com', 'person@example.com'],
		['  Person@Example.COM  ', 'person@example.com'],
		['\tfirst.last+tag@sub.example.org\n', 'first.last+tag@sub.example.org']
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
		['a tab inside', 'person@exam\tple.com']
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
