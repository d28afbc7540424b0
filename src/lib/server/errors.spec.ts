import { DrizzleQueryError } from 'drizzle-orm/errors';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, safeErrorMessage } from './errors';

/** A server error as node-postgres builds it from PostgreSQL's ErrorResponse. */
function serverError(code: string, message: string): Error {
	const error = new pg.DatabaseError(message, message.length, 'error');
	error.code = code;
	return error;
}

const wrapped = (cause: Error) => new DrizzleQueryError('select * from "session" where "token" = $1', ['tok'], cause);

/** A real refused connection: nothing listens on port 1. */
async function refusedConnection(): Promise<unknown> {
	const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
	return client.connect().then(
		() => new Error('port 1 answered'),
		(error: unknown) => error
	);
}

describe('isDatabaseUnavailable', () => {
	it.each([
		['server shutting down', serverError('57P01', 'terminating connection due to administrator command')],
		['server not accepting connections yet', serverError('57P03', 'the database system is starting up')],
		['statement timeout', serverError('57014', 'canceling statement due to statement timeout')],
		['too many connections', serverError('53300', 'sorry, too many clients already')],
		['connection exception', serverError('08006', 'connection failure')],
		['pool timeout', new Error('timeout exceeded when trying to connect')],
		['lost connection', new Error('Connection terminated unexpectedly')]
	])('recognises %s, bare or wrapped by Drizzle', (_, error) => {
		expect(isDatabaseUnavailable(error)).toBe(true);
		expect(isDatabaseUnavailable(wrapped(error))).toBe(true);
	});

	it('recognises a refused connection', async () => {
		const error = await refusedConnection();
		expect(isDatabaseUnavailable(error)).toBe(true);
	});

	it.each([
		['unique violation', serverError('23505', 'duplicate key value violates unique constraint "session_token_unique"')],
		['syntax error', serverError('42601', 'syntax error at or near "selec"')],
		['programming error', new TypeError("Cannot read properties of undefined (reading 'id')")],
		['a string', 'database down']
	])('leaves %s to be a 500', (_, error) => {
		expect(isDatabaseUnavailable(error)).toBe(false);
		if (error instanceof Error) expect(isDatabaseUnavailable(wrapped(error))).toBe(false);
	});
});

describe('safeErrorMessage', () => {
	it("logs a wrapped query error as the driver's reason, without the query's parameters", () => {
		const message = safeErrorMessage(
			wrapped(serverError('57P01', 'terminating connection due to administrator command'))
		);
		expect(message).toBe('terminating connection due to administrator command');
		expect(message).not.toContain('tok');
	});
});
