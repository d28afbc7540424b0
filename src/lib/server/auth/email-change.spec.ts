import { describe, expect, it } from 'vitest';
import { emailChangedNotice, emailTakenNotice } from '../mail';
import { maskEmail } from './email-change';

describe('maskEmail', () => {
	it('keeps the first character and the domain only', () => {
		expect(maskEmail('nadia@example.com')).toBe('n***@example.com');
		expect(maskEmail('n@example.com')).toBe('n***@example.com');
		expect(maskEmail('first.last+tag@mail.example.org')).toBe('f***@mail.example.org');
	});

	it('hides everything of a value that has no local part', () => {
		expect(maskEmail('@example.com')).toBe('***');
		expect(maskEmail('no-at-sign')).toBe('***');
	});
});

describe('the email-change notices', () => {
	it('tell the old address the masked new one, and carry no code', () => {
		const notice = emailChangedNotice('old@example.com', maskEmail('new@example.com'));
		expect(notice.to).toBe('old@example.com');
		expect(notice.text).toContain('changed to n***@example.com');
		expect(notice.text).not.toContain('new@example.com');
		expect(notice.code).toBeUndefined();
	});

	it("tell a taken address's owner that nothing changed, with no code in it", () => {
		const notice = emailTakenNotice('owner@example.com');
		expect(notice.code).toBeUndefined();
		expect(notice.text).toMatch(/nothing was changed/);
		expect(notice.text).not.toMatch(/\d{8}/);
	});
});
