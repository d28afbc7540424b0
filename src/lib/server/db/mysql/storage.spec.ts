import { describe, expect, it } from 'vitest';
import { fieldsByPosition, fieldsOf } from '../lookup.testing';
import { session, user } from './schema';
import { readSessionRow, SESSIONS_BY_TOKENS } from './storage';

/** What the SELECT list reads, in order: each `s.` (session) or `u.` (user) column before FROM. */
const selected = [...SESSIONS_BY_TOKENS.slice(0, SESSIONS_BY_TOKENS.indexOf('FROM')).matchAll(/\b([su])\.(\w+)/g)].map(
	([, alias, name]) => (alias === 's' ? fieldsOf(session, 'session.') : fieldsOf(user, 'user.')).get(name!) ?? name!
);
const schemaFields = [...fieldsOf(session, 'session.').values(), ...fieldsOf(user, 'user.').values()];

describe('the per-request lookup on MySQL', () => {
	it('selects every column of session and of user, each once', () => {
		expect([...selected].sort()).toEqual([...schemaFields].sort());
	});

	it('reads each position of the row into the field of the column the SELECT list names there', () => {
		expect(fieldsByPosition(readSessionRow, selected.length)).toEqual(selected);
	});

	it('reads booleans from 0 and 1', () => {
		const row: unknown[] = Array.from({ length: 23 }, () => 0);
		row[13] = 1;
		const stored = readSessionRow(row);
		expect([stored.session.persistent, stored.user.emailVerified]).toEqual([true, false]);
	});
});
