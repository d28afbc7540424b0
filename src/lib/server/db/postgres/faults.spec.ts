import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { classifyFault } from '../faults';
import { openPostgres } from './connection';
import { postgresFaultOf } from './faults';

/** A server error as node-postgres builds it from PostgreSQL's ErrorResponse. */
function serverError(code: string, message: string): Error {
	const error = new pg.DatabaseError(message, message.length, 'error');
	error.code = code;
	return error;
}

describe('postgresFaultOf', () => {
	it.each([
		['55P03', 'canceling statement due to lock timeout', 'a PostgreSQL statement waited too long for a lock'],
		[
			'55P03',
			'could not obtain lock on row in relation "rate_limit_window"',
			'a PostgreSQL statement waited too long for a lock'
		],
		['40P01', 'deadlock detected', 'a PostgreSQL statement was caught in a deadlock'],
		[
			'40001',
			'could not serialize access due to concurrent update',
			'a PostgreSQL transaction could not be serialized with a concurrent one'
		],
		['57014', 'canceling statement due to statement timeout', 'PostgreSQL cannot serve requests right now']
	])('names SQLSTATE %s (%s)', (code, message, what) => {
		expect(postgresFaultOf(code, message)).toBe(what);
		expect(classifyFault(new Error('Failed query: update …', { cause: serverError(code, message) }))).toBe(
			`${what} (${code}: ${message})`
		);
	});

	it('names a statement asked of a pool the process has ended, as node-postgres reports it', async () => {
		// Nothing listens on port 1: the pool ends before it ever connects, and no statement reaches a server.
		const database = openPostgres({ dialect: 'postgres', url: 'postgres://latchkey@127.0.0.1:1/latchkey' });
		await database.close();
		const error = await database.client.query('SELECT 1').then(
			() => new Error('the ended pool ran the statement'),
			(failed: unknown) => failed
		);

		expect(classifyFault(error)).toBe(
			'the PostgreSQL connection pool is closed (shutting down) (Cannot use a pool after calling end on the pool)'
		);
	});

	it("leaves the request's own errors and other engines' codes alone", () => {
		expect(postgresFaultOf('23505', 'duplicate key value violates unique constraint "session_pkey"')).toBeNull();
		expect(postgresFaultOf('40002', 'integrity constraint violation')).toBeNull();
		expect(postgresFaultOf('55000', 'object not in prerequisite state')).toBeNull();
		expect(postgresFaultOf('ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock')).toBeNull();
		expect(postgresFaultOf(undefined, 'Pool is closed.')).toBeNull();
		expect(postgresFaultOf(undefined, 'The database connection is not open')).toBeNull();
	});
});
