import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFault, safeErrorMessage } from '../errors';
import { classifyFault } from './faults';

const TOKEN = 'a-session-token-that-must-never-be-logged';

const session = sqliteTable('session', { token: text('token') });

/** What `work` throws: a query built as Better Auth's adapter builds them, through Drizzle. */
function thrownBy(work: () => unknown): unknown {
	try {
		work();
	} catch (error) {
		return error;
	}
	throw new Error('the query succeeded');
}

/** The error a Drizzle insert with the token as parameter throws on `client`. */
const writeError = (client: Sqlite.Database) =>
	thrownBy(() => drizzle(client).insert(session).values({ token: TOKEN }).run());

describe('databaseFault and safeErrorMessage', () => {
	const cleanups: Array<() => void> = [];
	afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

	function tempDatabaseFile(): string {
		const dir = mkdtempSync(join(tmpdir(), 'latchkey-errors-'));
		cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
		return join(dir, 'test.db');
	}

	it('names a read-only database', () => {
		const client = new Sqlite(':memory:');
		client.exec('CREATE TABLE session (token TEXT)');
		client.pragma('query_only = ON');
		const error = writeError(client);

		const expected = 'the SQLite database file is read-only (SQLITE_READONLY: attempt to write a readonly database)';
		expect(databaseFault(error)).toBe(expected);
		expect(safeErrorMessage(error)).toBe(expected);
	});

	it('names a database locked by another connection, also inside a Drizzle query error (without its parameters)', () => {
		const file = tempDatabaseFile();
		const holder = new Sqlite(file);
		const client = new Sqlite(file, { timeout: 0 });
		cleanups.push(() => [client, holder].forEach((connection) => connection.close()));
		holder.exec('CREATE TABLE session (token TEXT)');
		holder.exec('BEGIN EXCLUSIVE');

		const error = writeError(client);

		expect(databaseFault(error)).toBe(
			'the SQLite database is locked by another connection (SQLITE_BUSY: database is locked)'
		);
		const wrapped = new DrizzleQueryError('insert into "session" ("token") values (?)', [TOKEN], error as Error);
		expect(wrapped.message).toContain(TOKEN);
		expect(safeErrorMessage(wrapped)).toBe(databaseFault(error));
	});

	it('is null for errors that are not the database being unusable, whose messages stay as they were', () => {
		const noTable = writeError(new Sqlite(':memory:'));

		expect(databaseFault(noTable)).toBeNull();
		expect(safeErrorMessage(noTable)).toBe('no such table: session');
		expect(databaseFault(new Error('boom'))).toBeNull();
		expect(databaseFault('SQLITE_BUSY')).toBeNull();
		expect(safeErrorMessage(new Error(`Failed query: select 1\nparams: ${TOKEN}`))).toBe('database query failed');
	});
});

/** A server error as node-postgres builds it from PostgreSQL's ErrorResponse. */
function serverError(code: string, message: string): Error {
	const error = new pg.DatabaseError(message, message.length, 'error');
	error.code = code;
	return error;
}

const wrappedQuery = (cause: Error) =>
	new DrizzleQueryError('select * from "session" where "token" = $1', [TOKEN], cause);

/** A real refused connection: nothing listens on port 1. */
async function refusedConnection(): Promise<unknown> {
	const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
	return client.connect().then(
		() => new Error('port 1 answered'),
		(error: unknown) => error
	);
}

describe('databaseFault on PostgreSQL', () => {
	it.each([
		['server shutting down', serverError('57P01', 'terminating connection due to administrator command')],
		['server not accepting connections yet', serverError('57P03', 'the database system is starting up')],
		['statement timeout', serverError('57014', 'canceling statement due to statement timeout')],
		['too many connections', serverError('53300', 'sorry, too many clients already')],
		['connection exception', serverError('08006', 'connection failure')],
		['pool timeout', new Error('timeout exceeded when trying to connect')],
		['no answer within the query timeout', new Error('Query read timeout')],
		['connection timeout', new Error('Connection terminated due to connection timeout')],
		['lost connection', new Error('Connection terminated unexpectedly')]
	])('recognises %s, bare or wrapped by Drizzle', (_, error) => {
		expect(databaseFault(error)).toContain(error.message);
		expect(databaseFault(wrappedQuery(error))).toBe(databaseFault(error));
	});

	it('recognises a refused connection', async () => {
		expect(databaseFault(await refusedConnection())).toMatch(/^the database server cannot be reached \(ECONNREFUSED: /);
	});

	it.each([
		['unique violation', serverError('23505', 'duplicate key value violates unique constraint "session_token_unique"')],
		['syntax error', serverError('42601', 'syntax error at or near "selec"')],
		['programming error', new TypeError("Cannot read properties of undefined (reading 'id')")]
	])('leaves %s to be a 500', (_, error) => {
		expect(databaseFault(error)).toBeNull();
		expect(databaseFault(wrappedQuery(error))).toBeNull();
	});

	it("logs a wrapped outage as its cause, without the query's parameters", () => {
		const message = safeErrorMessage(
			wrappedQuery(serverError('57P01', 'terminating connection due to administrator command'))
		);
		expect(message).toBe(
			'PostgreSQL cannot serve requests right now (57P01: terminating connection due to administrator command)'
		);
		expect(message).not.toContain(TOKEN);
	});
});

describe('classifyFault', () => {
	it('is what errors.ts reports as the database fault', () => {
		const error = serverError('57P01', 'terminating connection due to administrator command');
		expect(classifyFault(error)).toBe(databaseFault(error));
		expect(classifyFault(new Error('boom'))).toBeNull();
	});
});
