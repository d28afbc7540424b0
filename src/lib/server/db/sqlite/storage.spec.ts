import { describe, expect, it } from 'vitest';
import { fieldsByPosition, fieldsOf } from '../lookup.testing';
import { session, user } from './schema';
import { readSessionRow, readUserRow, SESSION_BY_TOKEN, USER_BY_ID } from './storage';

/** The columns a single-table SELECT names, in order. */
const selectList = (sql: string) =>
	sql
		.slice(sql.indexOf('SELECT') + 'SELECT'.length, sql.indexOf('FROM'))
		.split(',')
		.map((name) => name.trim());

describe.each([
	{ statement: 'SESSION_BY_TOKEN', sql: SESSION_BY_TOKEN, table: session, read: readSessionRow },
	{ statement: 'USER_BY_ID', sql: USER_BY_ID, table: user, read: readUserRow }
])('the per-request lookup on SQLite: $statement', ({ sql, table, read }) => {
	const fields = fieldsOf(table, '');
	const selected = selectList(sql).map((name) => fields.get(name) ?? name);

	it('selects every column of its table, each once', () => {
		expect([...selected].sort()).toEqual([...fields.values()].sort());
	});

	it('reads each position of the row into the field of the column the SELECT list names there', () => {
		expect(fieldsByPosition(read, selected.length)).toEqual(selected);
	});
});

describe('the per-request lookup on SQLite', () => {
	it('reads times from epoch milliseconds and booleans from 0 and 1', () => {
		const row: unknown[] = Array.from({ length: 16 }, (_, position) => position);
		row[11] = null;
		row[13] = 1;
		row[15] = null;
		const stored = readSessionRow(row);
		expect(stored.deviceBoundAt).toBeNull();
		expect(readSessionRow(row.with(15, 15)).deviceBoundAt).toEqual(new Date(15));
		expect(stored.expiresAt).toEqual(new Date(3));
		expect(stored.absoluteExpiresAt).toBeNull();
		expect(stored.persistent).toBe(true);
		expect(readSessionRow(row.map((value, position) => (position === 13 ? 0 : value))).persistent).toBe(false);
	});
});
