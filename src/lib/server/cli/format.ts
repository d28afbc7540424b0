/**
 * What the CLI prints, as pure functions of plain data: a fixed-width plain-text table (no
 * colours or terminal width, so it reads the same in a terminal, a pipe or a log file) or JSON.
 */

/** One session as an operator sees it; deliberately has no token field, so none can be printed. */
export interface SessionSummary {
	id: string;
	device: string;
	ipAddress: string | null;
	createdAt: Date;
	lastActiveAt: Date;
	expiresAt: Date;
	policy: string;
	/** Bound to a key on its device (DEVICE_BOUND_SESSIONS): a copy of its cookie works nowhere else. */
	boundToDevice: boolean;
}

export interface PolicyCount {
	policy: string;
	sessions: number;
}

export interface PurgeCounts {
	sessions: number;
	batches: number;
	other: number;
}

/** ISO 8601 in UTC to the second: unambiguous across operators' time zones, and sorts as text. */
export function formatTime(date: Date): string {
	return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
	const line = (cells: readonly string[]) =>
		cells
			.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
			.join('  ')
			.trimEnd();
	return [line(header), ...rows.map(line)].join('\n');
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
	return `${count} ${count === 1 ? singular : pluralForm}`;
}

export function formatSessionTable(email: string, sessions: readonly SessionSummary[]): string {
	if (sessions.length === 0) return `No active sessions for ${email}.`;
	const table = formatTable(
		['ID', 'DEVICE', 'IP', 'CREATED', 'LAST ACTIVE', 'EXPIRES', 'POLICY', 'BOUND'],
		sessions.map((session) => [
			session.id,
			session.device,
			session.ipAddress ?? '-',
			formatTime(session.createdAt),
			formatTime(session.lastActiveAt),
			formatTime(session.expiresAt),
			session.policy,
			session.boundToDevice ? 'yes' : 'no'
		])
	);
	return `${table}\n\n${plural(sessions.length, 'active session')} for ${email}.`;
}

/** The same fields as the table, dates as full ISO strings (JSON.stringify's own form). */
export function formatSessionJson(sessions: readonly SessionSummary[]): string {
	return JSON.stringify(sessions, null, 2);
}

export function totalSessions(counts: readonly PolicyCount[]): number {
	return counts.reduce((sum, { sessions }) => sum + sessions, 0);
}

export function formatStatsTable(counts: readonly PolicyCount[]): string {
	const rows = counts.map(({ policy, sessions }) => [policy, String(sessions)]);
	return formatTable(['POLICY', 'ACTIVE SESSIONS'], [...rows, ['total', String(totalSessions(counts))]]);
}

export function formatStatsJson(counts: readonly PolicyCount[]): string {
	const byPolicy = Object.fromEntries(counts.map(({ policy, sessions }) => [policy, sessions]));
	return JSON.stringify({ total: totalSessions(counts), byPolicy }, null, 2);
}

export function formatPurge({ sessions, batches, other }: PurgeCounts): string {
	return [
		`Deleted ${plural(sessions, 'expired session')} in ${plural(batches, 'batch', 'batches')}.`,
		`Removed ${plural(other, 'other expired row')} (sign-in codes and rate-limit counters).`
	].join('\n');
}
