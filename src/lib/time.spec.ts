import { describe, expect, it } from 'vitest';
import { exactTime, relativeTime } from './time';

const NOW = new Date('2026-03-15T12:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function at(offset: number): Date {
	return new Date(NOW.getTime() + offset);
}

describe('relativeTime', () => {
	const CASES: Array<[string, number, string]> = [
		['the same moment', 0, 'just now'],
		['59 seconds ago', -59 * SECOND, 'just now'],
		['59 seconds ahead', 59 * SECOND, 'just now'],
		['60 seconds ago', -60 * SECOND, '1 minute ago'],
		['60 seconds ahead', 60 * SECOND, 'in 1 minute'],
		['5 minutes ago', -5 * MINUTE, '5 minutes ago'],
		['5 minutes and 59 seconds ago', -(5 * MINUTE + 59 * SECOND), '5 minutes ago'],
		['1 hour ago', -HOUR, '1 hour ago'],
		['just under 2 hours ago', -(2 * HOUR - SECOND), '1 hour ago'],
		['in 3 hours', 3 * HOUR, 'in 3 hours'],
		['1 day ago', -DAY, 'yesterday'],
		['1 day ahead', DAY, 'tomorrow'],
		['2 days ago', -2 * DAY, '2 days ago'],
		['in 3 days', 3 * DAY, 'in 3 days'],
		['29 days ago', -29 * DAY, '29 days ago'],
		['30 days ago', -30 * DAY, 'last month'],
		['45 days ago', -45 * DAY, 'last month'],
		['60 days ago', -60 * DAY, '2 months ago'],
		['in 200 days', 200 * DAY, 'in 6 months'],
		['364 days ago', -364 * DAY, '12 months ago'],
		['365 days ago', -365 * DAY, 'last year'],
		['in 365 days', 365 * DAY, 'next year'],
		['800 days ago', -800 * DAY, '2 years ago'],
		['in 5 years', 5 * 365 * DAY, 'in 5 years']
	];

	it.each(CASES)('says %s', (_, offset, expected) => {
		expect(relativeTime(at(offset), NOW)).toBe(expected);
	});
});

describe('exactTime', () => {
	const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
	const pad = (n: number) => String(n).padStart(2, '0');

	it.each([
		['2026-11-27T09:53:43.999Z', '27 Nov 2026, 09:53:43 UTC'],
		['2026-12-31T23:30:00.000Z', '31 Dec 2026, 23:30:00 UTC'],
		['2027-01-01T00:15:05.000Z', '1 Jan 2027, 00:15:05 UTC'],
		['2026-03-29T01:30:00.000Z', '29 Mar 2026, 01:30:00 UTC'],
		['2026-09-07T07:05:09.000Z', '7 Sep 2026, 07:05:09 UTC']
	])('formats %s as %s', (iso, expected) => {
		expect(exactTime(new Date(iso))).toBe(expected);
	});

	it.each([
		'2026-11-27T09:53:43.000Z',
		'2026-12-31T23:30:00.000Z',
		'2027-01-01T00:15:05.000Z',
		'2026-07-04T13:07:59.000Z'
	])('gives the UTC fields of %s, whatever the local time zone', (iso) => {
		const date = new Date(iso);
		const text = exactTime(date);
		expect(text.endsWith(' UTC')).toBe(true);
		const utc =
			`${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ` +
			`${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`;
		expect(text).toBe(utc);
	});
});
