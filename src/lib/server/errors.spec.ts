import { describe, expect, it } from 'vitest';
import { databaseFault, safeErrorMessage } from './errors';

const TOKEN = 'a-session-token-that-must-never-be-logged';

// Each engine's faults, read from real drivers: db/faults.spec.ts.
describe('safeErrorMessage', () => {
	it("drops a failed query's text and parameters", () => {
		expect(safeErrorMessage(new Error(`Failed query: select 1\nparams: ${TOKEN}`))).toBe('database query failed');
	});

	it("gives a failed query's cause instead of the query", () => {
		const error = new Error(`Failed query: select 1\nparams: ${TOKEN}`, { cause: new Error('no such table: session') });
		expect(safeErrorMessage(error)).toBe('no such table: session');
	});

	it('keeps any other message as it is, up to parameters', () => {
		expect(safeErrorMessage(new Error('boom'))).toBe('boom');
		expect(safeErrorMessage(`thrown text\nparams: ${TOKEN}`)).toBe('thrown text');
	});
});

describe('databaseFault', () => {
	it('is null for errors that do not say the database is unusable', () => {
		expect(databaseFault(new Error('boom'))).toBeNull();
		expect(databaseFault('a thrown string')).toBeNull();
		expect(databaseFault(undefined)).toBeNull();
	});
});
