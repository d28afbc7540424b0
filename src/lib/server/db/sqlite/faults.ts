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
 * better-sqlite3's words (a TypeError, without a code) for a statement on a connection already
 * closed: a request that arrives while the process shuts down.
 */
const CLOSED = /^The database connection is not open$/;

export function sqliteFaultOf(code: string | undefined, message: string): string | null {
	if (code === undefined) return CLOSED.test(message) ? 'the SQLite connection is closed (shutting down)' : null;
	return SQLITE_FAULTS.find(([prefix]) => code.startsWith(prefix))?.[1] ?? null;
}

/** Another connection holds the write lock: worth waiting for, unlike every other fault. */
export function isBusy(error: unknown): boolean {
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
