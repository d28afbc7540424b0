import { POOL_WAIT_TIMEOUT } from './connection';

/**
 * mysql2's codes for "this database cannot serve you right now": the server's error names
 * (mysql2 names MySQL's numbers), the driver's own PROTOCOL_* codes, and the pool's wait for a
 * connection (connection.ts). Each says what an operator should look at. The request itself was
 * fine: it deserves a 503 and "try again".
 */
const FAULTS_BY_CODE: Record<string, string> = {
	PROTOCOL_CONNECTION_LOST: 'the connection to MySQL was lost',
	PROTOCOL_SEQUENCE_TIMEOUT: 'MySQL did not answer within the statement timeout',
	[POOL_WAIT_TIMEOUT]: 'no MySQL connection came free in time',
	ER_CLIENT_INTERACTION_TIMEOUT: 'the connection to MySQL was lost',
	ER_ABORTING_CONNECTION: 'the connection to MySQL was lost',
	ER_CON_COUNT_ERROR: 'MySQL has no connection left to give',
	ER_TOO_MANY_USER_CONNECTIONS: 'MySQL has no connection left to give',
	ER_OUT_OF_RESOURCES: 'MySQL cannot serve requests right now',
	ER_SERVER_SHUTDOWN: 'MySQL cannot serve requests right now',
	ER_SERVER_OFFLINE_MODE: 'MySQL cannot serve requests right now',
	ER_QUERY_TIMEOUT: 'a MySQL statement ran past the statement timeout',
	ER_QUERY_INTERRUPTED: 'a MySQL statement was interrupted',
	ER_LOCK_WAIT_TIMEOUT: 'a MySQL statement waited too long for a row lock',
	ER_LOCK_DEADLOCK: 'a MySQL statement was caught in a deadlock',
	ER_READ_ONLY_MODE: 'the MySQL server is read-only',
	ER_DISK_FULL: 'the disk holding the MySQL database is full',
	ER_RECORD_FILE_FULL: 'a MySQL table is full'
};

/**
 * MariaDB's errors that mysql2 has no name for (its names are MySQL's), by their words:
 * 1969, a statement past `max_statement_time`, and 1927, a connection killed by the server.
 * And mysql2's words for a statement sent on a connection it already knows is gone, and for
 * one asked of a pool already ended — a request that arrives while the process shuts down.
 */
const FAULTS_BY_MESSAGE: Array<[RegExp, string]> = [
	[/\(max_statement_time exceeded\)$/, 'a MySQL statement ran past the statement timeout'],
	[/^Connection was killed/, 'the connection to MySQL was lost'],
	[/^Can't add new command when connection is in closed state/, 'the connection to MySQL was lost'],
	[/^Pool is closed\.$/, 'the MySQL connection pool is closed (shutting down)']
];

/** MySQL 8 says "read-only" through a general code that other options use too. */
const READ_ONLY = /--read-only|--super-read-only/;

/**
 * The fault one error (not its causes) says the server has, from mysql2's code (undefined when
 * it has none) and its message; null when none. Socket errors (ECONNREFUSED, ETIMEDOUT on
 * connect, …) are every server engine's and are left to the caller.
 */
export function mysqlFaultOf(code: string | undefined, message: string): string | null {
	if (code === 'ER_OPTION_PREVENTS_STATEMENT') return READ_ONLY.test(message) ? 'the MySQL server is read-only' : null;
	if (code !== undefined) return FAULTS_BY_CODE[code] ?? null;
	return FAULTS_BY_MESSAGE.find(([words]) => words.test(message))?.[1] ?? null;
}
