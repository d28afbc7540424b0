import { randomBytes } from 'node:crypto';
import type { Database } from '../src/lib/server/db';
import { PRESETS } from '../src/lib/server/auth/policy';

type UserRow = Database['schema']['user']['$inferInsert'];
type SessionRow = Database['schema']['session']['$inferInsert'];

/** Most people sign in from more than one device; this keeps the user table smaller than the session table. */
const SESSIONS_PER_USER = 2;
/** Rows per INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const ROWS_PER_INSERT = 500;

/**
 * Adds `count` live sessions of other users, so the token lookup both contenders make runs on
 * an index of realistic size rather than on a table with one row.
 */
export async function seedSessions(database: Database, count: number): Promise<void> {
	const now = Date.now();
	const users = Array.from({ length: Math.ceil(count / SESSIONS_PER_USER) }, (_, i) => userRow(i, now));
	const sessions = Array.from({ length: count }, (_, i) => sessionRow(users[i % users.length]!.id, now));
	await insertAll(database, users, sessions);
	await analyze(database);
}

function userRow(index: number, now: number): UserRow {
	return {
		id: randomId(),
		name: `Bench User ${index}`,
		email: `bench-user-${index}@example.com`,
		emailVerified: true,
		createdAt: new Date(now),
		updatedAt: new Date(now)
	};
}

function sessionRow(userId: string, now: number): SessionRow {
	const policy = PRESETS.standard;
	return {
		id: randomId(),
		userId,
		token: randomId(),
		expiresAt: new Date(now + policy.idleSeconds * 1000),
		createdAt: new Date(now),
		updatedAt: new Date(now),
		ipAddress: '198.51.100.1',
		userAgent: 'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/seed',
		policy: policy.name,
		idleSeconds: policy.idleSeconds,
		refreshSeconds: policy.refreshSeconds,
		absoluteExpiresAt: null,
		persistent: false
	};
}

/** 32 URL-safe characters, the length of Better Auth's ids and tokens. */
function randomId(): string {
	return randomBytes(24).toString('base64url');
}

/** Multi-row INSERTs in one transaction: one commit instead of one per row. */
async function insertAll(database: Database, users: UserRow[], sessions: SessionRow[]): Promise<void> {
	if (database.dialect === 'sqlite') {
		const { schema } = database;
		database.db.transaction((tx) => {
			for (const batch of chunks(users)) tx.insert(schema.user).values(batch).run();
			for (const batch of chunks(sessions)) tx.insert(schema.session).values(batch).run();
		});
	} else {
		const { schema } = database;
		await database.db.transaction(async (tx) => {
			for (const batch of chunks(users)) await tx.insert(schema.user).values(batch);
			for (const batch of chunks(sessions)) await tx.insert(schema.session).values(batch);
		});
	}
}

function* chunks<T>(rows: T[]): Generator<T[]> {
	for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) yield rows.slice(start, start + ROWS_PER_INSERT);
}

/** Planner statistics, as a database that has been in use for a while would have them. */
async function analyze(database: Database): Promise<void> {
	if (database.dialect === 'sqlite') database.client.exec('ANALYZE');
	else await database.client.query('ANALYZE');
}
