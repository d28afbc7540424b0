/**
 * An error's message made safe for a log line. Drizzle's query errors carry the query's
 * parameters (`params: <session token>, …`) in their message; those are dropped, and the
 * driver's own reason (the cause) is used instead. A database that cannot be used now is
 * named for what it is (see databaseFault).
 */
export function safeErrorMessage(error: unknown): string {
	const fault = databaseFault(error);
	if (fault) return fault;
	if (!(error instanceof Error)) return String(error).split('\nparams:')[0]!;
	const cause = error.cause instanceof Error ? error.cause : null;
	const message = cause && /^Failed query/.test(error.message) ? cause.message : error.message;
	return message.split('\nparams:')[0]!.replace(/^Failed query: [\s\S]*/, 'database query failed');
}

/**
 * SQLite result codes (extended codes start with these) that say the database file cannot be
 * used right now — the request itself was fine — and what an operator should look at.
 */
const SQLITE_FAULTS: Array<[prefix: string, what: string]> = [
	['SQLITE_BUSY', 'the SQLite database is locked by another connection'],
	['SQLITE_LOCKED', 'the SQLite database is locked'],
	['SQLITE_READONLY', 'the SQLite database file is read-only'],
	['SQLITE_IOERR', 'the SQLite database file could not be read or written'],
	['SQLITE_FULL', 'the disk holding the SQLite database is full'],
	['SQLITE_CANTOPEN', 'the SQLite database file cannot be opened'],
	['SQLITE_CORRUPT', 'the SQLite database file is damaged'],
	['SQLITE_NOTADB', 'the SQLite database file is not a database']
];

/** How deep to look through `cause`: Drizzle and Better Auth each wrap the driver's error once. */
const MAX_CAUSE_DEPTH = 4;

/**
 * What is wrong with the database when `error` (or an error it wraps) says the database
 * cannot be used now, e.g. "the SQLite database file is read-only (SQLITE_READONLY: attempt
 * to write a readonly database)"; null for any other error. Such a request deserves a 503,
 * not a 500. The driver's message names no parameter, so it is safe to log.
 */
export function databaseFault(error: unknown): string | null {
	let current: unknown = error;
	for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
		const code = (current as { code?: unknown }).code;
		const fault = typeof code === 'string' ? SQLITE_FAULTS.find(([prefix]) => code.startsWith(prefix)) : undefined;
		if (fault) return `${fault[1]} (${code}: ${current.message})`;
		current = current.cause;
	}
	return null;
}
