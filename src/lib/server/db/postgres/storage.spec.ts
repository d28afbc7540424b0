import { describe, expect, it } from 'vitest';
import { fieldsByPosition, fieldsOf } from '../lookup.testing';
import { session, user } from './schema';
import { readSessionRow, SESSIONS_BY_TOKENS } from './storage';

/** What the SELECT list reads, in order: each `s.` (session) or `u.` (user) column before FROM. */
const selected = [...SESSIONS_BY_TOKENS.slice(0, SESSIONS_BY_TOKENS.indexOf('FROM')).matchAll(/\b([su])\.(\w+)/g)].map(
	([, alias, name]) => (alias === 's' ? fieldsOf(session, 'session.') : fieldsOf(user, 'user.')).get(name!) ?? name!
);
const schemaFields = [...fieldsOf(session, 'session.').values(), ...fieldsOf(user, 'user.').values()];

describe('the per-request lookup on PostgreSQL', () => {
	it('selects every column of session and of user, each once', () => {
		expect([...selected].sort()).toEqual([...schemaFields].sort());
	});

	it('reads each position of the row into the field of the column the SELECT list names there', () => {
		const read = (row: unknown[]) => readSessionRow(JSON.parse(JSON.stringify(row)) as unknown[]);
		expect(fieldsByPosition(read, selected.length)).toEqual(selected);
	});

	it('reads times from epoch milliseconds, and an absent absolute lifetime as null', () => {
		const row: unknown[] = Array.from({ length: 23 }, (_, position) => position);
		row[11] = null;
		row[15] = null;
		const stored = readSessionRow(JSON.parse(JSON.stringify(row)) as unknown[]);
		expect(stored.session.expiresAt).toEqual(new Date(3));
		expect(stored.user.updatedAt).toEqual(new Date(22));
		expect(stored.session.absoluteExpiresAt).toBeNull();
		expect(stored.session.deviceBoundAt).toBeNull();
		expect(readSessionRow(JSON.parse(JSON.stringify(row.with(15, 15))) as unknown[]).session.deviceBoundAt).toEqual(
			new Date(15)
		);
	});
});
