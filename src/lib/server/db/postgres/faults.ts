/**
 * PostgreSQL's SQLSTATEs for "cannot serve you right now": connection exceptions (class 08),
 * too many connections, statement timeout or cancel, and a server shutting down, crashed or
 * still starting.
 */
const UNAVAILABLE_SQLSTATES = /^(08...|53300|57014|57P0[1-3])$/;

/**
 * SQLSTATEs for a statement that lost to a concurrent one: it waited past `lock_timeout` (or a
 * NOWAIT lock was taken), the server broke a deadlock by cancelling it, or a transaction stricter
 * than READ COMMITTED could not be serialized with another. The same request succeeds once the
 * other transaction is gone.
 */
const CONTENTION_BY_SQLSTATE: Record<string, string> = {
	'55P03': 'a PostgreSQL statement waited too long for a lock',
	'40P01': 'a PostgreSQL statement was caught in a deadlock',
	'40001': 'a PostgreSQL transaction could not be serialized with a concurrent one'
};

/**
 * node-postgres's own words (pg/lib/client.js, pg-pool) for a statement the server did not
 * answer within the query timeout, a wait for a pooled connection that ran out, a connection it
 * lost or could not make in time, and a statement asked of a pool already ended — a request that
 * arrives while the process shuts down.
 */
const DRIVER_FAULTS: Array<[RegExp, string]> = [
	[/^Query read timeout/, 'PostgreSQL did not answer within the statement timeout'],
	[/^timeout exceeded when trying to connect/, 'no PostgreSQL connection came free in time'],
	[/^(Connection terminated|Client has encountered a connection error)/, 'the connection to PostgreSQL was lost'],
	[/^Cannot use a pool after calling end on the pool$/, 'the PostgreSQL connection pool is closed (shutting down)']
];

export function postgresFaultOf(code: string | undefined, message: string): string | null {
	if (code === undefined) return DRIVER_FAULTS.find(([words]) => words.test(message))?.[1] ?? null;
	if (UNAVAILABLE_SQLSTATES.test(code)) return 'PostgreSQL cannot serve requests right now';
	return CONTENTION_BY_SQLSTATE[code] ?? null;
}
