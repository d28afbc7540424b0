import Sqlite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { classifyFault } from '../faults';
import { isBusy, sqliteFaultOf } from './faults';

/** What `work` throws; fails the test when it returns. */
function thrownBy(work: () => unknown): unknown {
	try {
		work();
	} catch (error) {
		return error;
	}
	throw new Error('the statement succeeded');
}

describe('sqliteFaultOf', () => {
	it.each([
		['SQLITE_BUSY', 'the SQLite database is locked by another connection'],
		['SQLITE_BUSY_SNAPSHOT', 'the SQLite database is locked by another connection'],
		['SQLITE_READONLY', 'the SQLite database file is read-only'],
		['SQLITE_IOERR_WRITE', 'the SQLite database file could not be read or written'],
		['SQLITE_FULL', 'the disk holding the SQLite database is full']
	])('names %s', (code, what) => {
		expect(sqliteFaultOf(code, 'any words')).toBe(what);
	});

	it('names a statement on a connection the process has closed, as better-sqlite3 reports it', () => {
		const client = new Sqlite(':memory:');
		client.close();
		const error = thrownBy(() => client.prepare('SELECT 1'));

		expect(error).toBeInstanceOf(TypeError);
		expect(classifyFault(error)).toBe(
			'the SQLite connection is closed (shutting down) (The database connection is not open)'
		);
		expect(isBusy(error)).toBe(false);
	});

	it("leaves the request's own errors and other engines' words alone", () => {
		const noTable = thrownBy(() => new Sqlite(':memory:').prepare('SELECT * FROM missing'));

		expect(classifyFault(noTable)).toBeNull();
		expect(sqliteFaultOf('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: session.token')).toBeNull();
		expect(sqliteFaultOf(undefined, 'The database connection is not open yet, says another library')).toBeNull();
		expect(sqliteFaultOf(undefined, 'Pool is closed.')).toBeNull();
	});
});
