/**
 * How long a request may wait on a database server, from DATABASE_STATEMENT_TIMEOUT. The server
 * cancels a statement at the statement timeout; the driver stops waiting for an answer a margin
 * later, so that a server that cancels answers first with its own error, and a server that
 * stays silent (a dead host, a stalled network or proxy) still fails the request as a fault.
 */

/** DATABASE_STATEMENT_TIMEOUT's default. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** How much longer than the statement timeout the driver waits for the server's answer. */
export const CLIENT_MARGIN_MS = 1000;

/** The longest a new connection, or a wait for a free pooled one, takes when the statement timeout is longer. */
export const LONGEST_POOL_WAIT_MS = 5000;

/** How long the driver waits for the answer to one statement before it gives up on the server. */
export function clientTimeoutMs(statementTimeoutMs: number): number {
	return statementTimeoutMs + CLIENT_MARGIN_MS;
}

/**
 * How long a statement waits for a pooled connection, a new one included: never longer than
 * the driver waits for an answer, so that a request whose connections are all stuck on a
 * silent server fails as soon as one that got a connection.
 */
export function poolWaitMs(statementTimeoutMs: number): number {
	return Math.min(LONGEST_POOL_WAIT_MS, clientTimeoutMs(statementTimeoutMs));
}
