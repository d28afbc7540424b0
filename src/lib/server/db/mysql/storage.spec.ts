import { getTableConfig } from 'drizzle-orm/mysql-core';
import { describe, expect, it } from 'vitest';
import { columnsRead } from '../columns';
import { session, user } from './schema';
import { SESSIONS_BY_TOKENS } from './storage';

const columnsOf = (table: typeof session | typeof user) =>
	getTableConfig(table)
		.columns.map((column) => column.name)
		.sort();

describe('the per-request lookup on MySQL', () => {
	it('reads every column of session and of user, as the schema has them, each once', () => {
		const read = columnsRead(SESSIONS_BY_TOKENS);
		expect([...read.session].sort()).toEqual(columnsOf(session));
		expect([...read.user].sort()).toEqual(columnsOf(user));
		expect(new Set(read.session).size).toBe(read.session.length);
		expect(new Set(read.user).size).toBe(read.user.length);
	});
});
