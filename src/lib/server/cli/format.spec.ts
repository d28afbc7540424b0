import { describe, expect, it } from 'vitest';
import {
	formatPurge,
	formatSessionJson,
	formatSessionTable,
	formatStatsJson,
	formatStatsTable,
	formatTable,
	formatTime,
	plural,
	type SessionSummary
} from './format';

const LAPTOP: SessionSummary = {
	id: 'sess-laptop',
	device: 'Chrome 131 on macOS',
	ipAddress: '203.0.113.7',
	createdAt: new Date('2026-03-01T08:00:00.123Z'),
	lastActiveAt: new Date('2026-03-14T09:30:00.000Z'),
	expiresAt: new Date('2026-03-21T09:30:00.000Z'),
	policy: 'standard',
	boundToDevice: true
};

const PHONE: SessionSummary = {
	id: 'sess-phone-with-a-longer-id',
	device: 'Safari on iPhone',
	ipAddress: null,
	createdAt: new Date('2026-03-10T12:00:00.000Z'),
	lastActiveAt: new Date('2026-03-10T12:00:00.000Z'),
	expiresAt: new Date('2026-04-09T12:00:00.000Z'),
	policy: 'remember-me',
	boundToDevice: false
};

describe('formatTime', () => {
	it('prints UTC to the second', () => {
		expect(formatTime(new Date('2026-03-01T08:00:00.123Z'))).toBe('2026-03-01T08:00:00Z');
	});
});

describe('formatTable', () => {
	it('pads every column but the last to its widest cell, without trailing spaces', () => {
		expect(
			formatTable(
				['A', 'LONG HEADER', 'LAST'],
				[
					['wide cell', 'x', 'y'],
					['z', '', '']
				]
			)
		).toBe(['A          LONG HEADER  LAST', 'wide cell  x            y', 'z'].join('\n'));
	});
});

describe('plural', () => {
	it('counts in words', () => {
		expect(plural(0, 'session')).toBe('0 sessions');
		expect(plural(1, 'session')).toBe('1 session');
		expect(plural(2, 'batch', 'batches')).toBe('2 batches');
	});
});

describe('formatSessionTable', () => {
	it('shows one aligned row per session and a count', () => {
		const text = formatSessionTable('ada@example.com', [LAPTOP, PHONE]);
		const lines = text.split('\n');
		expect(lines[0]).toMatch(/^ID +DEVICE +IP +CREATED +LAST ACTIVE +EXPIRES +POLICY +BOUND$/);
		expect(lines[1]).toMatch(
			/^sess-laptop +Chrome 131 on macOS +203\.0\.113\.7 +2026-03-01T08:00:00Z +2026-03-14T09:30:00Z +2026-03-21T09:30:00Z +standard +yes$/
		);
		expect(lines[2]).toMatch(
			/^sess-phone-with-a-longer-id +Safari on iPhone +- +2026-03-10T12:00:00Z.* remember-me +no$/
		);
		// Aligned: every column starts at the same offset on every line.
		expect(lines[1]!.indexOf('Chrome')).toBe(lines[0]!.indexOf('DEVICE'));
		expect(lines[2]!.indexOf('remember-me')).toBe(lines[0]!.indexOf('POLICY'));
		expect(lines[1]!.lastIndexOf('yes')).toBe(lines[0]!.indexOf('BOUND'));
		expect(lines.at(-1)).toBe('2 active sessions for ada@example.com.');
	});

	it('says so when there is nothing to show', () => {
		expect(formatSessionTable('ada@example.com', [])).toBe('No active sessions for ada@example.com.');
	});
});

describe('formatSessionJson', () => {
	it('prints the same fields with full ISO dates', () => {
		expect(JSON.parse(formatSessionJson([LAPTOP]))).toEqual([
			{
				id: 'sess-laptop',
				device: 'Chrome 131 on macOS',
				ipAddress: '203.0.113.7',
				createdAt: '2026-03-01T08:00:00.123Z',
				lastActiveAt: '2026-03-14T09:30:00.000Z',
				expiresAt: '2026-03-21T09:30:00.000Z',
				policy: 'standard',
				boundToDevice: true
			}
		]);
		expect(JSON.parse(formatSessionJson([]))).toEqual([]);
	});
});

describe('stats', () => {
	const counts = [
		{ policy: 'standard', sessions: 5 },
		{ policy: 'remember-me', sessions: 2 }
	];

	it('prints a row per policy and a total', () => {
		expect(formatStatsTable(counts).split('\n')).toEqual([
			'POLICY       ACTIVE SESSIONS',
			'standard     5',
			'remember-me  2',
			'total        7'
		]);
		expect(formatStatsTable([]).split('\n')).toEqual(['POLICY  ACTIVE SESSIONS', 'total   0']);
	});

	it('prints the same as JSON', () => {
		expect(JSON.parse(formatStatsJson(counts))).toEqual({ total: 7, byPolicy: { standard: 5, 'remember-me': 2 } });
		expect(JSON.parse(formatStatsJson([]))).toEqual({ total: 0, byPolicy: {} });
	});
});

describe('formatPurge', () => {
	it('reports sessions, batches and other rows', () => {
		expect(formatPurge({ sessions: 2500, batches: 3, other: 1 })).toBe(
			'Deleted 2500 expired sessions in 3 batches.\nRemoved 1 other expired row (sign-in codes and rate-limit counters).'
		);
	});
});
