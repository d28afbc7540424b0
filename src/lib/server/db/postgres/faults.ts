/**
 * PostgreSQL's SQLSTATEs for "cannot serve you right now": connection exceptions (class 08),
 * too many connections, statement timeout or cancel, and a server shutting down, crashed or
 * still starting.
 */
const UNAVAILABLE_SQLSTATES = /^(08...|53300|57014|57P0[1-3])$/;

/** node-postgres's own words for a connection it lost or could not get in time (pg/lib/client.js, pg-pool). */
const LOST_CONNECTION_MESSAGES =
	/^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

export function postgresFaultOf(code: string | undefined, message: string): string | null {
	if (code === undefined)
		return LOST_CONNECTION_MESSAGES.test(message) ? 'the connection to PostgreSQL was lost' : null;
	return UNAVAILABLE_SQLSTATES.test(code) ? 'PostgreSQL cannot serve requests right now' : null;
}
