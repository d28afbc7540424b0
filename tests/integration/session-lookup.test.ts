import { describe, expect, it } from 'vitest';
import { connectionOf, openStorage, type Storage } from '../../src/lib/server/db';
import { sessionCookieFrom, signIn } from './support/app';
import { DIALECTS } from './support/databases';
import { runStatement, sessionRows, updateSessionRow } from './support/rows';
import { useScratchApp } from './support/suite';

/**
 * The per-request lookup must see every committed change on the very next call, whoever wrote
 * it: nothing between the request and the database may answer from an older copy.
 */
describe.each(DIALECTS)('the session lookup sees every change at once on %s', (dialect) => {
	const suite = useScratchApp(dialect);
	let users = 0;

	async function signedInToken(): Promise<{ token: string; id: string }> {
		const cookie = sessionCookieFrom(await signIn(suite.app, `store-${dialect}-${++users}@example.com`));
		const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
		const token = value.slice(0, value.lastIndexOf('.'));
		const row = (await sessionRows(suite.app.database)).find((candidate) => candidate.token === token)!;
		return { token, id: row.id };
	}

	async function withSecondConnection(work: (other: Storage) => Promise<void>): Promise<void> {
		const other = openStorage(suite.app.config.database);
		try {
			await work(other);
		} finally {
			await other.close();
		}
	}

	it('a session deleted by another connection (the CLI, another process) is gone on the next lookup', async () => {
		const store = suite.app.database.sessions;
		const { token, id } = await signedInToken();
		expect((await store.findByToken(token))?.session.id).toBe(id);
		expect((await store.findByToken(token))?.session.id).toBe(id);
		await withSecondConnection(async (other) => {
			await runStatement(other, 'DELETE FROM session WHERE id = ?', [id]);
		});
		expect(await store.findByToken(token)).toBeNull();
	});

	it('a session changed through this connection is read afresh on the next lookup', async () => {
		const store = suite.app.database.sessions;
		const { token, id } = await signedInToken();
		await store.findByToken(token);
		const moved = new Date(Date.now() + 3_600_000);
		moved.setMilliseconds(0);
		await updateSessionRow(suite.app.database, id, { expiresAt: moved });
		expect((await store.findByToken(token))?.session.expiresAt).toEqual(moved);
	});

	it('a user renamed by another connection is read afresh, and an unrelated write does not lose the session', async () => {
		const store = suite.app.database.sessions;
		const { token } = await signedInToken();
		const { user } = (await store.findByToken(token))!;
		await withSecondConnection(async (other) => {
			await runStatement(other, 'UPDATE "user" SET name = ? WHERE id = ?', ['Renamed', user.id]);
		});
		expect((await store.findByToken(token))?.user.name).toBe('Renamed');
		await runStatement(suite.app.database, 'DELETE FROM verification WHERE id = ?', ['none']);
		expect((await store.findByToken(token))?.user.name).toBe('Renamed');
	});

	it('lookups made at the same moment each get their own session, and an unknown token none', async () => {
		const store = suite.app.database.sessions;
		const first = await signedInToken();
		const second = await signedInToken();
		const found = await Promise.all(
			[first.token, second.token, 'no-such-token', first.token].map((token) => store.findByToken(token))
		);
		expect(found.map((one) => one?.session.id ?? null)).toEqual([first.id, second.id, null, first.id]);
		expect(found[0]?.user.id).not.toBe(found[1]?.user.id);
	});

	it.runIf(dialect === 'sqlite')('a row read inside a transaction that rolls back is not kept', async () => {
		const store = suite.app.database.sessions;
		const { token, id } = await signedInToken();
		const database = connectionOf(suite.app.database);
		if (database.dialect !== 'sqlite') return;
		const client = database.client;
		client.exec('BEGIN');
		client.prepare('DELETE FROM session WHERE id = ?').run(id);
		expect(await store.findByToken(token)).toBeNull();
		client.exec('ROLLBACK');
		expect((await store.findByToken(token))?.session.id).toBe(id);
		client.exec('BEGIN');
		await store.findByToken(token);
		client.prepare('UPDATE session SET policy = ? WHERE id = ?').run('high-security', id);
		expect((await store.findByToken(token))?.session.policy).toBe('high-security');
		client.exec('ROLLBACK');
		expect((await store.findByToken(token))?.session.policy).not.toBe('high-security');
	});
});
