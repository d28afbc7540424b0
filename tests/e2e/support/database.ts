import Sqlite from 'better-sqlite3';
import type { TestServer } from './servers';

/** Opens a test server's own SQLite database, for checks (and clock moves) the UI cannot make. */
export function withAppDatabase<T>(app: TestServer, work: (db: Sqlite.Database) => T): T {
	const db = new Sqlite(`${app.dataDir}/latchkey.db`);
	try {
		db.pragma('busy_timeout = 5000');
		return work(db);
	} finally {
		db.close();
	}
}

export function sessionCountFor(app: TestServer, email: string): number {
	return withAppDatabase(
		app,
		(db) =>
			db
				.prepare<[string], { n: number }>(
					'SELECT count(*) AS n FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
				)
				.get(email)!.n
	);
}

export function sessionIdsFor(app: TestServer, email: string): string[] {
	return withAppDatabase(app, (db) =>
		db
			.prepare<[string], { id: string }>(
				'SELECT s.id FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?'
			)
			.all(email)
			.map((row) => row.id)
	);
}

/** What a request could change for a user: their session rows, their security log, the user itself. */
export function userStateOf(app: TestServer, email: string) {
	return withAppDatabase(app, (db) => ({
		sessions: sessionIdsFor(app, email).sort(),
		securityEvents: db
			.prepare<[string], { n: number }>(
				'SELECT count(*) AS n FROM security_event e JOIN "user" u ON u.id = e.user_id WHERE u.email = ?'
			)
			.get(email)!.n,
		users: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM "user" WHERE email = ?').get(email)!.n
	}));
}

/** Makes this user's sessions look as if they signed in `minutes` ago: older than the re-auth window. */
export function ageSessionsOf(app: TestServer, email: string, minutes: number): void {
	withAppDatabase(app, (db) =>
		db
			.prepare('UPDATE session SET created_at = ? WHERE user_id = (SELECT id FROM "user" WHERE email = ?)')
			.run(Date.now() - minutes * 60_000, email)
	);
}

/**
 * Makes the database refuse one kind of write for one user's rows (a trigger scoped to them),
 * as a database that cannot take writes would; returns the function that lifts it.
 */
export function refuseWritesOf(
	app: TestServer,
	email: string,
	write: 'INSERT ON security_event' | 'DELETE ON session' | 'UPDATE ON session'
): () => void {
	const trigger = `refuse_${Math.random().toString(36).slice(2, 10)}`;
	const row = write.startsWith('INSERT') ? 'NEW' : 'OLD';
	withAppDatabase(app, (db) => {
		const { id } = db.prepare<[string], { id: string }>('SELECT id FROM "user" WHERE email = ?').get(email)!;
		db.exec(
			`CREATE TRIGGER ${trigger} BEFORE ${write} WHEN ${row}.user_id = '${id}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`
		);
	});
	return () => withAppDatabase(app, (db) => db.exec(`DROP TRIGGER ${trigger}`));
}

/** Moves this user's sessions' last refresh `days` back: their next request is due a refresh, a write. */
export function dueRefreshOf(app: TestServer, email: string, days = 2): void {
	withAppDatabase(app, (db) =>
		db
			.prepare('UPDATE session SET updated_at = ? WHERE user_id = (SELECT id FROM "user" WHERE email = ?)')
			.run(Date.now() - days * 24 * 3600_000, email)
	);
}
