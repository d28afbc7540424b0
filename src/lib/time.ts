const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
	['year', 365 * 24 * 3600],
	['month', 30 * 24 * 3600],
	['day', 24 * 3600],
	['hour', 3600],
	['minute', 60]
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
// A fixed locale and time zone: server and browser render the same text, so hydration matches.
const exact = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });

/** "5 minutes ago", "in 3 days", "just now". */
export function relativeTime(date: Date, now: Date): string {
	const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
	for (const [unit, size] of UNITS) {
		if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
	}
	return 'just now';
}

/** "27 Nov 2026, 09:53:43 UTC", for the title of a relative time. */
export function exactTime(date: Date): string {
	return `${exact.format(date)} UTC`;
}
