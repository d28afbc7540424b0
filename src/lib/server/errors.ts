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

/**
 * PostgreSQL's SQLSTATEs for "cannot serve you right now": connection exceptions (class 08),
 * too many connections, statement timeout or cancel, and a server shutting down, crashed or
 * still starting.
 */
const UNAVAILABLE_SQLSTATES = /^(08...|53300|57014|57P0[1-3])$/;
const UNREACHABLE_SOCKET_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'EPIPE',
	'EHOSTUNREACH',
	'ENOTFOUND'
]);
/** node-postgres's own words for a connection it lost or could not get in time (pg/lib/client.js, pg-pool). */
const LOST_CONNECTION_MESSAGES =
	/^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

/** How deep to look through `cause`: Drizzle and Better Auth each wrap the driver's error once. */
const MAX_CAUSE_DEPTH = 4;

/**
 * What is wrong with the database when `error` (or an error it wraps) says the database
 * cannot be used now — SQLite's file locked, read-only or failing; PostgreSQL out of reach,
 * shutting down or past the statement timeout — e.g. "the SQLite database file is read-only
 * (SQLITE_READONLY: attempt to write a readonly database)"; null for any other error. Such a
 * request deserves a 503 and "try again", not a 500. The drivers' messages for these name no
 * parameter, so they are safe to log.
 */
export function databaseFault(error: unknown): string | null {
	let current: unknown = error;
	for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
		const code = (current as { code?: unknown }).code;
		const what = typeof code === 'string' ? faultOfCode(code) : lostConnection(current.message);
		if (what) return `${what} (${typeof code === 'string' ? `${code}: ` : ''}${current.message})`;
		current = current.cause;
	}
	return null;
}

function faultOfCode(code: string): string | null {
	const sqlite = SQLITE_FAULTS.find(([prefix]) => code.startsWith(prefix));
	if (sqlite) return sqlite[1];
	if (UNAVAILABLE_SQLSTATES.test(code)) return 'PostgreSQL cannot serve requests right now';
	if (UNREACHABLE_SOCKET_CODES.has(code)) return 'the database server cannot be reached';
	return null;
}

function lostConnection(message: string): string | null {
	return LOST_CONNECTION_MESSAGES.test(message) ? 'the connection to PostgreSQL was lost' : null;
}
