const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
	['year', 365 * 24 * 3600],
	['month', 30 * 24 * 3600],
	['day', 24 * 3600],
	['hour', 3600],
	['minute', 60]
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const twoDigits = (n: number) => String(n).padStart(2, '0');

/** "5 minutes ago", "in 3 days", "just now". */
export function relativeTime(date: Date, now: Date): string {
	const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
	for (const [unit, size] of UNITS) {
		if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
	}
	return 'just now';
}

/**
 * "27 Nov 2026, 09:53:43 UTC". Built by hand rather than with Intl.DateTimeFormat: the text is
 * the same on the server and in every browser whatever its ICU data ("Sep" or "Sept"), so
 * hydration matches, and no Intl formatter runs on every signed-in page
 * (docs/decisions/0012-small-request-path-fixes.md).
 */
export function exactTime(date: Date): string {
	const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map(twoDigits).join(':');
	return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${time} UTC`;
}
