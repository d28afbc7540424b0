/**
 * An error's message made safe for a log line. Drizzle's query errors carry the query's
 * parameters (`params: <session token>, …`) in their message; those are dropped, and the
 * driver's own reason (the cause) is used instead.
 */
export function safeErrorMessage(error: unknown): string {
	if (!(error instanceof Error)) return String(error).split('\nparams:')[0]!;
	const cause = error.cause instanceof Error ? error.cause : null;
	const message = cause && /^Failed query/.test(error.message) ? cause.message : error.message;
	return message.split('\nparams:')[0]!.replace(/^Failed query: [\s\S]*/, 'database query failed');
}

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

/**
 * True when `error` (or any error in its cause chain, as Drizzle wraps the driver's) says the
 * database is out of reach or shutting down: a condition to answer with 503 and "try again",
 * not a bug to answer with 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
	for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
		const code = (current as Error & { code?: unknown }).code;
		if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNREACHABLE_SOCKET_CODES.has(code))) {
			return true;
		}
		if (LOST_CONNECTION_MESSAGES.test(current.message)) return true;
	}
	return false;
}
