import { classifyFault } from './db/faults';

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
 * What is wrong with the database when `error` (or an error it wraps) says it cannot be used
 * now — locked, read-only, out of reach, shutting down, past a timeout — as each engine names
 * it (db/faults.ts); null for any other error. Such a request deserves a 503 and "try again",
 * not a 500.
 */
export function databaseFault(error: unknown): string | null {
	return classifyFault(error);
}
