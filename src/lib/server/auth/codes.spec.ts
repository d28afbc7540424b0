import { describe, expect, it } from 'vitest';
import type { CodeRecord, CodeRows } from '../db/port';
import {
	CODE_DIGITS,
	CODE_LIFETIME_SECONDS,
	CODE_PATTERN,
	CODE_TRIES,
	issueCode,
	newCode,
	reauthHolder,
	signInHolder,
	tryCode,
	type CodeBook
} from './codes';

const SECRET = 'codes-spec-secret-0123456789abcdef0123';

/** The port's contract in memory: compare-and-set on the value, one row per holder. */
function memoryRows(): CodeRows & { rows: Map<string, CodeRecord> } {
	const rows = new Map<string, CodeRecord>();
	return {
		rows,
		async replace(code) {
			for (const [id, row] of rows) if (row.holder === code.holder) rows.delete(id);
			rows.set(code.id, { ...code });
		},
		async find(holder) {
			const row = [...rows.values()].find((candidate) => candidate.holder === holder);
			return row ? { id: row.id, value: row.value } : null;
		},
		async update(id, seen, value) {
			const row = rows.get(id);
			if (!row || row.value !== seen) return false;
			row.value = value;
			return true;
		},
		async spend(id, seen) {
			const row = rows.get(id);
			if (!row || row.value !== seen) return false;
			return rows.delete(id);
		}
	};
}

function book(now = { ms: 1_700_000_000_000 }) {
	const rows = memoryRows();
	const codes: CodeBook = { rows, secret: SECRET, now: () => now.ms };
	return { codes, rows, now };
}

const wrong = (code: string) => (code === '0'.repeat(CODE_DIGITS) ? '1' : '0').repeat(CODE_DIGITS);

describe('one-time codes', () => {
	it('draws codes of CODE_DIGITS digits, leading zeros included', () => {
		const drawn = Array.from({ length: 2000 }, newCode);
		expect(drawn.every((code) => CODE_PATTERN.test(code))).toBe(true);
		expect(drawn.some((code) => code.startsWith('0'))).toBe(true);
		expect(new Set(drawn).size).toBeGreaterThan(1990);
	});

	it('stores no code and no address, only a digest bound to its holder', async () => {
		const { codes, rows } = book();
		const code = await issueCode(codes, signInHolder('k'.repeat(43)), 'ada@example.com');
		const [row] = [...rows.rows.values()];
		expect(row!.value).not.toContain(code);
		expect(row!.value).not.toContain('ada');
		expect(row!.holder).not.toContain('k'.repeat(43));
	});

	it('accepts the right code once', async () => {
		const { codes } = book();
		const holder = signInHolder('a'.repeat(43));
		const code = await issueCode(codes, holder, 'ada@example.com');
		expect(await tryCode(codes, holder, 'ada@example.com', code)).toBe('accepted');
		expect(await tryCode(codes, holder, 'ada@example.com', code)).toBe('wrong');
	});

	it('refuses every try after CODE_TRIES wrong ones, the right code too', async () => {
		const { codes } = book();
		const holder = signInHolder('b'.repeat(43));
		const code = await issueCode(codes, holder, 'ada@example.com');
		const verdicts = [];
		for (let i = 0; i < CODE_TRIES; i++) verdicts.push(await tryCode(codes, holder, 'ada@example.com', wrong(code)));
		verdicts.push(await tryCode(codes, holder, 'ada@example.com', code));
		expect(verdicts).toEqual([...Array<string>(CODE_TRIES).fill('wrong'), 'used-up']);
	});

	it('expires at the end of its lifetime, not a millisecond before', async () => {
		const { codes, now } = book();
		const holder = signInHolder('c'.repeat(43));
		const code = await issueCode(codes, holder, 'ada@example.com');
		now.ms += CODE_LIFETIME_SECONDS * 1000 - 1;
		const second = await issueCode(codes, holder, 'ada@example.com');
		now.ms += CODE_LIFETIME_SECONDS * 1000 - 1;
		expect(await tryCode(codes, holder, 'ada@example.com', second)).toBe('accepted');
		const third = await issueCode(codes, holder, 'ada@example.com');
		now.ms += CODE_LIFETIME_SECONDS * 1000;
		expect(await tryCode(codes, holder, 'ada@example.com', third)).toBe('expired');
		expect(code).toMatch(CODE_PATTERN);
	});

	it("never accepts a code for another holder, another address or another purpose, and spends none of the holder's tries", async () => {
		const { codes } = book();
		const owner = signInHolder('d'.repeat(43));
		const code = await issueCode(codes, owner, 'ada@example.com');
		const stranger = signInHolder('e'.repeat(43));
		const elsewhere = [
			await tryCode(codes, stranger, 'ada@example.com', code),
			await tryCode(codes, reauthHolder('d'.repeat(43)), 'ada@example.com', code),
			await tryCode(codes, stranger, 'ada@example.com', code),
			await tryCode(codes, stranger, 'ada@example.com', code)
		];
		expect(elsewhere).toEqual(['wrong', 'wrong', 'wrong', 'wrong']);
		expect(await tryCode(codes, owner, 'grace@example.com', code)).toBe('wrong');
		// One wrong try (the other address) so far: two left, and the right code still works.
		expect(await tryCode(codes, owner, 'ada@example.com', wrong(code))).toBe('wrong');
		expect(await tryCode(codes, owner, 'ada@example.com', code)).toBe('accepted');
	});

	it('a new code for the holder replaces theirs; other holders keep their own', async () => {
		const { codes } = book();
		const laptop = signInHolder('f'.repeat(43));
		const phone = signInHolder('g'.repeat(43));
		const first = await issueCode(codes, laptop, 'ada@example.com');
		const phoneCode = await issueCode(codes, phone, 'ada@example.com');
		const second = await issueCode(codes, laptop, 'ada@example.com');
		expect(second === first ? 'wrong' : await tryCode(codes, laptop, 'ada@example.com', first)).toBe('wrong');
		expect(await tryCode(codes, laptop, 'ada@example.com', second)).toBe('accepted');
		expect(await tryCode(codes, phone, 'ada@example.com', phoneCode)).toBe('accepted');
	});

	it('lets exactly one of many concurrent right tries spend the code', async () => {
		const { codes } = book();
		const holder = reauthHolder('session-1');
		const code = await issueCode(codes, holder, 'ada@example.com');
		const verdicts = await Promise.all(
			Array.from({ length: 10 }, () => tryCode(codes, holder, 'ada@example.com', code))
		);
		expect(verdicts.filter((verdict) => verdict === 'accepted')).toHaveLength(1);
	});
});
