import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
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
	const { dialect } = database;
	await runCounted(
		database,
		overCounter(
			dialect,
			'"user" (id, name, email, email_verified, created_at, updated_at)',
			`SELECT ${concat(dialect, '?', 'i')}, ${concat(dialect, "'Bench user '", 'i')},
				${concat(dialect, '?', 'i', "'@example.com'")}, ?, ?, ? FROM n`
		),
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

/** The rows one seedSessions call made, by their number. */
export interface SeededSessions {
	tokenOf(index: number): string;
	idOf(index: number): string;
}

/** Sessions as the app creates them, policy columns set. */
export async function seedSessions(database: Database, rows: SessionRows): Promise<SeededSessions> {
	const now = rows.now ?? Date.now();
	const policy = rows.policy ?? PRESETS.standard;
	const idPrefix = uniquePrefix();
	const tokenPrefix = uniquePrefix();
	const { dialect } = database;
	const owner =
		'userId' in rows.owners
			? { sql: asText(dialect, '?'), values: [rows.owners.userId] }
			: {
					sql: concat(dialect, '?', `(i % ${Math.max(1, Math.trunc(rows.owners.users))})`),
					values: [rows.owners.prefix]
				};
	await runCounted(
		database,
		overCounter(
			dialect,
			`session (id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent,
				policy, idle_seconds, refresh_seconds, absolute_expires_at, persistent)`,
			`SELECT ${concat(dialect, '?', 'i')}, ${owner.sql}, ${concat(dialect, '?', 'i')}, ?, ?, ?, ?,
				'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/seed', ?, ?, ?, NULL, ? FROM n`
		),
		[
			rows.count,
			idPrefix,
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
	return { tokenOf: (index) => `${tokenPrefix}${index}`, idOf: (index) => `${idPrefix}${index}` };
}

/** A P-256 public key as a device registration stores it (auth/device-binding.ts); the benches never sign with it. */
export const BENCH_DEVICE_KEY = JSON.stringify({
	alg: 'ES256',
	jwk: {
		kty: 'EC',
		crv: 'P-256',
		x: '6_GB2voQ0qroMh6OlDFCFS_SJriQi1PTvvBOhGZ3bHI',
		y: 'IegOJULyE7SxH_Cd1KCER7lWBvGFHQ-h0xyjzUjEIWE'
	}
});

/** Ids per UPDATE: well under every engine's limit on placeholders in one statement. */
const BIND_BATCH = 500;

/**
 * Binds the sessions `ids` to BENCH_DEVICE_KEY as a registration does, by updating the rows a
 * sign-in inserted: bound rows are then what a browser that registered leaves behind.
 */
export async function bindToDevice(database: Database, ids: string[], boundAt = new Date()): Promise<void> {
	for (let start = 0; start < ids.length; start += BIND_BATCH) {
		const batch = ids.slice(start, start + BIND_BATCH);
		await runStatement(
			database,
			`UPDATE session SET device_key = ?, device_bound_at = ? WHERE id IN (${batch.map(() => '?').join(', ')})`,
			[BENCH_DEVICE_KEY, boundAt, ...batch]
		);
	}
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
	else if (database.dialect === 'mysql') await database.client.query('ANALYZE TABLE session, `user`');
	else await database.client.query('ANALYZE');
}

/** 24 random URL-safe characters; with a row number up to 7 digits, as long as a Better Auth token. */
export function uniquePrefix(): string {
	return randomBytes(18).toString('base64url');
}

/**
 * Runs a statement of overCounter. MySQL and MariaDB stop a recursion at 1000 rows by default,
 * each by a setting of its own name: the connection that runs it raises both.
 */
async function runCounted(database: Database, sql: string, values: unknown[]): Promise<void> {
	if (database.dialect !== 'mysql') return runStatement(database, sql, values);
	const connection = await database.client.getConnection();
	try {
		const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
		const mariaDb = /mariadb/i.test(String(rows[0]?.version));
		await connection.query(
			`SET SESSION ${mariaDb ? 'max_recursive_iterations' : 'cte_max_recursion_depth'} = 100000000`
		);
		await connection.query(sql.replace(/"(\w+)"/g, '`$1`'), values);
	} finally {
		// Its session settings changed: it goes rather than back to the pool.
		connection.destroy();
	}
}

/**
 * `INSERT INTO ${into} ${select}` over the rows 0 … (the first placeholder)-1 as `n(i)`. SQLite
 * and PostgreSQL take the WITH before the INSERT, MySQL and MariaDB after its column list.
 */
function overCounter(dialect: Database['dialect'], into: string, select: string): string {
	const counter = 'WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)';
	if (dialect === 'mysql') return `INSERT INTO ${into} ${counter} ${select}`;
	return `${counter} INSERT INTO ${into} ${select}`;
}

function asText(dialect: Database['dialect'], part: string): string {
	return `CAST(${part} AS ${dialect === 'mysql' ? 'CHAR' : 'TEXT'})`;
}

function concat(dialect: Database['dialect'], ...parts: string[]): string {
	const texts = parts.map((part) => (part === '?' ? asText(dialect, part) : part));
	// MySQL reads || as OR.
	return dialect === 'mysql' ? `CONCAT(${texts.join(', ')})` : texts.join(' || ');
}
