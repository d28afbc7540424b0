import { randomBytes } from 'node:crypto';
import type { Database } from '../src/lib/server/db';
import { runStatement } from '../tests/integration/support/rows';
import { PRESETS, type SessionPolicy } from '../src/lib/server/auth/policy';

/**
 * Rows for the benches, made by the database itself: one INSERT … SELECT over a counter per
 * call, so a million sessions take seconds rather than the minutes row-by-row inserts would.
 * Ids and tokens are a random prefix per call plus the row's number: unique, and as long as
 * Better Auth's own 32-character ones, so the indexes are of realistic size.
 */

/** Users whose ids are `userIdOf(prefix, i)` for i in 0 … count-1. */
export async function seedUsers(database: Database, prefix: string, count: number, now = Date.now()): Promise<void> {
	await runStatement(
		database,
		`${counter('?')}
		INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at)
		SELECT ${concat('?', 'i')}, ${concat("'Bench user '", 'i')}, ${concat('?', 'i', "'@example.com'")}, ?, ?, ? FROM n`,
		[count, prefix, `${prefix}-`, true, new Date(now), new Date(now)]
	);
}

export function userIdOf(prefix: string, index: number): string {
	return `${prefix}${index}`;
}

export interface SessionRows {
	count: number;
	/** The owners: `users` seeded with seedUsers(prefix), in turn, or every row to one user id. */
	owners: { prefix: string; users: number } | { userId: string };
	/** Milliseconds since the epoch; in the past for rows the purge is to delete. */
	expiresAt: number;
	policy?: SessionPolicy;
	/** The address the sessions were signed in from; the network watch compares requests with it. */
	ipAddress?: string;
	now?: number;
}

/** Sessions as the app creates them, policy columns set; returns the token of the row numbered `index`. */
export async function seedSessions(database: Database, rows: SessionRows): Promise<(index: number) => string> {
	const now = rows.now ?? Date.now();
	const policy = rows.policy ?? PRESETS.standard;
	const tokenPrefix = uniquePrefix();
	const owner =
		'userId' in rows.owners
			? { sql: 'CAST(? AS TEXT)', values: [rows.owners.userId] }
			: { sql: concat('?', `(i % ${Math.max(1, Math.trunc(rows.owners.users))})`), values: [rows.owners.prefix] };
	await runStatement(
		database,
		`${counter('?')}
		INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent,
			policy, idle_seconds, refresh_seconds, absolute_expires_at, persistent)
		SELECT ${concat('?', 'i')}, ${owner.sql}, ${concat('?', 'i')}, ?, ?, ?, ?,
			'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/seed', ?, ?, ?, NULL, ? FROM n`,
		[
			rows.count,
			uniquePrefix(),
			...owner.values,
			tokenPrefix,
			new Date(rows.expiresAt),
			new Date(now),
			new Date(now),
			rows.ipAddress ?? '198.51.100.1',
			policy.name,
			policy.idleSeconds,
			policy.refreshSeconds,
			false
		]
	);
	return (index) => `${tokenPrefix}${index}`;
}

/** Users and their live sessions (two each, as most people sign in from more than one device). */
export async function seedPopulation(database: Database, sessions: number): Promise<void> {
	const prefix = uniquePrefix();
	const users = Math.ceil(sessions / 2);
	await seedUsers(database, prefix, users);
	await seedSessions(database, {
		count: sessions,
		owners: { prefix, users },
		expiresAt: Date.now() + PRESETS.standard.idleSeconds * 1000
	});
	await analyze(database);
}

/** Planner statistics, as a database that has been in use for a while would have them. */
export async function analyze(database: Database): Promise<void> {
	if (database.dialect === 'sqlite') database.client.exec('ANALYZE');
	else await database.client.query('ANALYZE');
}

/** 24 random URL-safe characters; with a row number up to 7 digits, as long as a Better Auth token. */
export function uniquePrefix(): string {
	return randomBytes(18).toString('base64url');
}

/** The rows 0 … $count-1 as `n(i)`, in SQL both SQLite and PostgreSQL run. */
function counter(count: string): string {
	return `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${count})`;
}

function concat(...parts: string[]): string {
	return parts.map((part) => (part === '?' ? 'CAST(? AS TEXT)' : part)).join(' || ');
}
