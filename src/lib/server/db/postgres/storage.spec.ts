import { getTableConfig } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { session, user } from './schema';
import { columnsRead, SESSIONS_BY_TOKENS } from './storage';

const columnsOf = (table: typeof session | typeof user) =>
	getTableConfig(table)
		.columns.map((column) => column.name)
		.sort();

describe('the per-request lookup on PostgreSQL', () => {
	it('reads every column of session and of user, as the schema has them', () => {
		const read = columnsRead(SESSIONS_BY_TOKENS);
		expect([...read.session].sort()).toEqual(columnsOf(session));
		expect([...read.user].sort()).toEqual(columnsOf(user));
	});

	it('reads each column once', () => {
		const read = columnsRead(SESSIONS_BY_TOKENS);
		expect(new Set(read.session).size).toBe(read.session.length);
		expect(new Set(read.user).size).toBe(read.user.length);
	});

	it('sees a column left out', () => {
		const read = columnsRead(SESSIONS_BY_TOKENS.replace('s.policy, ', ''));
		expect(read.session).not.toContain('policy');
	});
});
