import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { RefusedUrl } from '../port';
import { redactCredentials } from '../redact';
import { clientTimeoutMs, DEFAULT_STATEMENT_TIMEOUT_MS, poolWaitMs } from '../timeouts';
import * as schema from './schema';

/** Where the database is: a `mysql://` or `mariadb://` URL naming the database. */
export type MysqlTarget = { dialect: 'mysql'; url: string };

/** A connection pool to the server, and the Drizzle database Better Auth writes through. */
export type MysqlDatabase = {
	dialect: 'mysql';
	db: MySql2Database<typeof schema>;
	schema: typeof schema;
	client: mysql.Pool;
	/** The DATABASE_URL it was opened on. */
	url: string;
	/** The longest a statement runs before it fails as a fault; the driver gives up on a silent server soon after. */
	statementTimeoutMs: number;
	close(): Promise<void>;
};

export interface MysqlOptions {
	/** Connections per instance. */
	poolMax?: number;
	/** Milliseconds after which the server cancels a statement (or, for writes, stops waiting for a lock). */
	statementTimeoutMs?: number;
	/** Milliseconds a new connection may take before it fails as a fault (timeouts.ts poolWaitMs by default). */
	connectTimeoutMs?: number;
}

const URL_FORM = /^(mysql|mariadb):\/\//i;

/**
 * The target a DATABASE_URL value names when it is a MySQL or MariaDB URL, null otherwise.
 * Throws for such a URL without a database: the tables would land wherever the server's
 * account defaults to, or nowhere.
 */
export function parseMysqlUrl(value: string): MysqlTarget | null {
	if (!URL_FORM.test(value)) return null;
	let database: string;
	try {
		database = decodeURIComponent(new URL(value).pathname.slice(1));
	} catch {
		throw new RefusedUrl('is not a valid URL');
	}
	if (!database || database.includes('/'))
		throw new RefusedUrl('names no database (mysql://user:password@host:3306/database)');
	return { dialect: 'mysql', url: value };
}

/**
 * Opens a pool; connections are made on first use. Every connection is utf8mb4 with binary
 * comparison, reads and writes DATETIME as UTC whatever the process's time zone, and gets the
 * statement timeout of its server (sessionSettings). No request waits on the server for ever:
 * the driver gives up on every statement a margin past the statement timeout
 * (boundStatements), and on the wait for a connection (boundPoolWait); the request answers 503.
 */
export function openMysql(
	{ url }: MysqlTarget,
	{
		poolMax = 10,
		statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS,
		connectTimeoutMs = poolWaitMs(statementTimeoutMs)
	}: MysqlOptions = {}
): MysqlDatabase {
	const client = mysql.createPool({
		uri: url.replace(URL_FORM, 'mysql://'),
		connectionLimit: poolMax,
		connectTimeout: connectTimeoutMs,
		charset: 'UTF8MB4_BIN',
		timezone: 'Z',
		enableKeepAlive: true
	});
	boundPoolWait(client.pool as unknown as CorePool, poolWaitMs(statementTimeoutMs));
	// The core pool hands each new connection over before any query runs on it, and a
	// connection runs its statements in order: the settings come first.
	client.pool.on('connection', (connection) => {
		boundStatements(connection as unknown as CoreConnection, clientTimeoutMs(statementTimeoutMs));
		const settings = sessionSettings(serverVersionOf(connection), statementTimeoutMs);
		connection.query(settings, (error: Error | null) => {
			if (error) console.error(`latchkey: MySQL session settings failed: ${error.message}`);
		});
	});
	return {
		dialect: 'mysql',
		db: drizzle(client, { schema, mode: 'default' }),
		schema,
		client,
		url,
		statementTimeoutMs,
		close: () => client.end()
	};
}

/** The server and where it is, without credentials, for log lines. */
export function describeMysql(url: string): string {
	return `${/^mariadb:/i.test(url) ? 'MariaDB' : 'MySQL'} at ${redactCredentials(url)}`;
}

/** The version string the server sent in its handshake (mysql2 keeps it on the connection). */
function serverVersionOf(connection: object): string {
	const handshake = (connection as { _handshakePacket?: { serverVersion?: unknown } })._handshakePacket;
	return typeof handshake?.serverVersion === 'string' ? handshake.serverVersion : '';
}

/**
 * The statement that bounds every statement of a connection. MariaDB cancels any statement
 * past `max_statement_time` (seconds); MySQL cancels a SELECT past `max_execution_time`
 * (milliseconds) and has no such limit for writes, which the lock wait bounds instead (a write
 * that waits on no lock is short). Both stop waiting for a row lock after
 * `innodb_lock_wait_timeout` (whole seconds).
 */
export function sessionSettings(serverVersion: string, statementTimeoutMs: number): string {
	const lockWaitSeconds = Math.max(1, Math.ceil(statementTimeoutMs / 1000));
	const limit = isMariaDb(serverVersion)
		? `max_statement_time = ${statementTimeoutMs / 1000}`
		: `max_execution_time = ${Math.round(statementTimeoutMs)}`;
	return `SET SESSION ${limit}, innodb_lock_wait_timeout = ${lockWaitSeconds}`;
}

export function isMariaDb(serverVersion: string): boolean {
	return /mariadb/i.test(serverVersion);
}

/**
 * How long the driver waits for an answer before it gives up on the server: a little past the
 * server's own limit, so that a server that cancels a statement answers first with its error.
 */
export function driverTimeoutMs(database: Pick<MysqlDatabase, 'statementTimeoutMs'>): number {
	return clientTimeoutMs(database.statementTimeoutMs);
}

/** What of mysql2's core connection boundStatements uses (mysql2 types neither). */
interface CoreConnection {
	addCommand(command: object): unknown;
	stream: { destroy(): void };
}

/** A statement command (Query, Execute): its own timeout, and what it does when that passes. */
interface TimedCommand {
	timeout?: number;
	_handleTimeoutError(): void;
}

const isTimed = (command: object): command is TimedCommand =>
	typeof (command as Partial<TimedCommand>)._handleTimeoutError === 'function';

/**
 * Every statement on the connection gets the driver's timeout unless it names its own, Drizzle's
 * (Better Auth's) included, which name none. A statement that times out closes its connection:
 * mysql2 only fails the statement, and the connection would go on waiting for the answer,
 * neither usable nor given back to the pool. Closing it fails whatever else waits on it, and the
 * pool opens a new one.
 */
function boundStatements(connection: CoreConnection, timeoutMs: number): void {
	const add = connection.addCommand.bind(connection);
	connection.addCommand = (command) => {
		if (isTimed(command)) {
			command.timeout ??= timeoutMs;
			const timedOut = command._handleTimeoutError.bind(command);
			command._handleTimeoutError = () => {
				timedOut();
				connection.stream.destroy();
			};
		}
		return add(command);
	};
}

type ConnectionCallback = (error: Error | null, connection?: { release(): void }) => void;

/** What of mysql2's core pool boundPoolWait uses. */
interface CorePool {
	getConnection(callback: ConnectionCallback): void;
}

/** The code of the error a statement fails with when no connection came free in time (faults.ts). */
export const POOL_WAIT_TIMEOUT = 'POOL_WAIT_TIMEOUT';

const bounded = new WeakSet<ConnectionCallback>();

/**
 * mysql2's pool lets a statement wait for a connection for ever. Here the wait, making a new
 * connection included, ends after `waitMs` with an error; a connection that comes free for a
 * caller who gave up goes straight back to the pool.
 */
function boundPoolWait(pool: CorePool, waitMs: number): void {
	const get = pool.getConnection.bind(pool);
	pool.getConnection = (callback) => {
		// The pool hands a waiting callback to getConnection again when a connection is removed.
		if (bounded.has(callback)) return get(callback);
		let waiting = true;
		const timer = setTimeout(() => {
			waiting = false;
			callback(Object.assign(new Error('No MySQL connection came free in time'), { code: POOL_WAIT_TIMEOUT }));
		}, waitMs);
		const delivered: ConnectionCallback = (error, connection) => {
			if (!waiting) return connection?.release();
			waiting = false;
			clearTimeout(timer);
			callback(error, connection);
		};
		bounded.add(delivered);
		get(delivered);
	};
}
