import { describe, expect, it } from 'vitest';
import { isMariaDb, openMysql, parseMysqlUrl, sessionSettings } from './connection';
import { classifyFault } from '../faults';
import { mysqlFaultOf } from './faults';

/** An error as mysql2 makes it: a message, and a code when mysql2 has a name for the error. */
const driverError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('mysqlFaultOf', () => {
	it.each([
		[
			'PROTOCOL_CONNECTION_LOST',
			'Connection lost: The server closed the connection.',
			'the connection to MySQL was lost'
		],
		['PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout', 'MySQL did not answer within the statement timeout'],
		['POOL_WAIT_TIMEOUT', 'No MySQL connection came free in time', 'no MySQL connection came free in time'],
		[
			'ER_QUERY_TIMEOUT',
			'Query execution was interrupted, maximum statement execution time exceeded',
			'a MySQL statement ran past the statement timeout'
		],
		[
			'ER_LOCK_WAIT_TIMEOUT',
			'Lock wait timeout exceeded; try restarting transaction',
			'a MySQL statement waited too long for a row lock'
		],
		[
			'ER_LOCK_DEADLOCK',
			'Deadlock found when trying to get lock; try restarting transaction',
			'a MySQL statement was caught in a deadlock'
		],
		['ER_CON_COUNT_ERROR', 'Too many connections', 'MySQL has no connection left to give'],
		['ER_SERVER_SHUTDOWN', 'Server shutdown in progress', 'MySQL cannot serve requests right now'],
		[
			'ER_OPTION_PREVENTS_STATEMENT',
			'The MySQL server is running with the --read-only option so it cannot execute this statement',
			'the MySQL server is read-only'
		]
	])('names %s', (code, message, what) => {
		expect(mysqlFaultOf(code, message)).toBe(what);
	});

	it("names MariaDB's errors that mysql2 has no code for, by their words", () => {
		expect(mysqlFaultOf(undefined, 'Query execution was interrupted (max_statement_time exceeded)')).toBe(
			'a MySQL statement ran past the statement timeout'
		);
		expect(mysqlFaultOf(undefined, 'Connection was killed')).toBe('the connection to MySQL was lost');
	});

	it('names a statement asked of a pool the process has ended, as mysql2 reports it', async () => {
		// Nothing listens on port 1: the pool ends before it ever connects, and no statement reaches a server.
		const database = openMysql({ dialect: 'mysql', url: 'mysql://latchkey@127.0.0.1:1/latchkey' });
		await database.close();
		const error = await database.client.query('SELECT 1').then(
			() => new Error('the ended pool ran the statement'),
			(failed: unknown) => failed
		);

		expect(classifyFault(error)).toBe('the MySQL connection pool is closed (shutting down) (Pool is closed.)');
	});

	it("leaves the request's own errors, other engines' codes and socket errors alone", () => {
		expect(mysqlFaultOf('ER_DUP_ENTRY', "Duplicate entry 'x' for key 'PRIMARY'")).toBeNull();
		expect(
			mysqlFaultOf('ER_OPTION_PREVENTS_STATEMENT', 'The MySQL server is running with the --skip-grant-tables option')
		).toBeNull();
		expect(mysqlFaultOf('SQLITE_BUSY', 'database is locked')).toBeNull();
		expect(mysqlFaultOf('57014', 'canceling statement due to statement timeout')).toBeNull();
		expect(mysqlFaultOf('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306')).toBeNull();
		expect(mysqlFaultOf(undefined, 'Connection terminated unexpectedly')).toBeNull();
		expect(mysqlFaultOf(undefined, 'Cannot use a pool after calling end on the pool')).toBeNull();
		expect(mysqlFaultOf(undefined, 'The database connection is not open')).toBeNull();
	});
});

describe('classifyFault', () => {
	it('looks through the errors Drizzle and Better Auth wrap around the driver’s, and names socket errors', () => {
		const wrapped = new Error('Failed query: select 1\nparams: secret-token', {
			cause: driverError('Lock wait timeout exceeded; try restarting transaction', 'ER_LOCK_WAIT_TIMEOUT')
		});
		expect(classifyFault(wrapped)).toBe(
			'a MySQL statement waited too long for a row lock (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded; try restarting transaction)'
		);
		expect(classifyFault(driverError('connect ETIMEDOUT', 'ETIMEDOUT'))).toBe(
			'the database server cannot be reached (ETIMEDOUT: connect ETIMEDOUT)'
		);
		expect(classifyFault(new Error('Failed query: select 1'))).toBeNull();
		expect(classifyFault('not an error')).toBeNull();
	});
});

describe('sessionSettings', () => {
	it('bounds statements in the unit each server takes, and lock waits in whole seconds', () => {
		expect(sessionSettings('10.11.19-MariaDB-0+deb12u1', 30_000)).toBe(
			'SET SESSION max_statement_time = 30, innodb_lock_wait_timeout = 30'
		);
		expect(sessionSettings('8.4.3', 30_000)).toBe(
			'SET SESSION max_execution_time = 30000, innodb_lock_wait_timeout = 30'
		);
		expect(sessionSettings('8.0.40', 200)).toBe('SET SESSION max_execution_time = 200, innodb_lock_wait_timeout = 1');
		expect(sessionSettings('11.4.2-MariaDB', 200)).toBe(
			'SET SESSION max_statement_time = 0.2, innodb_lock_wait_timeout = 1'
		);
		expect(isMariaDb('5.5.5-10.11.19-MariaDB')).toBe(true);
	});
});

describe('parseMysqlUrl', () => {
	it('takes mysql:// and mariadb:// URLs that name a database, and nothing else', () => {
		expect(parseMysqlUrl('mysql://user:pw@db.internal:3306/latchkey')).toEqual({
			dialect: 'mysql',
			url: 'mysql://user:pw@db.internal:3306/latchkey'
		});
		expect(parseMysqlUrl('MariaDB://user@localhost/latchkey?ssl=true')).toEqual({
			dialect: 'mysql',
			url: 'MariaDB://user@localhost/latchkey?ssl=true'
		});
		expect(parseMysqlUrl('postgres://user@localhost/latchkey')).toBeNull();
		expect(parseMysqlUrl('file:./data/latchkey.db')).toBeNull();
		expect(() => parseMysqlUrl('mysql://user@localhost')).toThrow(/names no database/);
		expect(() => parseMysqlUrl('mysql://user@localhost/')).toThrow(/names no database/);
	});
});
