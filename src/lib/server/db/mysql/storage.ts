import type { FieldPacket, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { createBatchLoader } from '../batch-loader';
import { rowReader, securityEventValues, type Row } from '../columns';
import type {
	CodeRecord,
	EmailChange,
	EndedSession,
	NetworksChange,
	SecurityEventRow,
	SessionRecord,
	Storage,
	StorageOptions,
	StoredSession
} from '../port';
import { describeMysql, driverTimeoutMs, type MysqlDatabase } from './connection';
import { migrateMysql } from './migrate';
import { securityEvent, session } from './schema';

/**
 * Every statement Latchkey runs on MySQL or MariaDB itself (Better Auth writes users, sessions
 * and codes through Drizzle), as literal text with `?` placeholders. mysql2's `query` fills them
 * in on the client: an array becomes a list (`IN (?)`), a Date its UTC text with milliseconds
 * (connection.ts). MySQL 8 has no `RETURNING`, so a statement that must say which rows it
 * changed runs in a transaction with a locking read before it.
 */

/**
 * The sessions of many tokens with their users, read as arrays: the session's columns, then the
 * user's. readSessionRow, below, reads them in this order; storage.spec.ts holds both to the schema.
 */
export const SESSIONS_BY_TOKENS = `
	SELECT s.id, s.user_id, s.token, s.expires_at, s.created_at, s.updated_at, s.ip_address, s.user_agent,
		s.policy, s.idle_seconds, s.refresh_seconds, s.absolute_expires_at, s.known_networks, s.persistent,
		s.device_key, s.device_bound_at,
		u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at
	FROM session s JOIN \`user\` u ON u.id = s.user_id
	WHERE s.token IN (?)`;

/**
 * One row of SESSIONS_BY_TOKENS, column by column as it selects them. mysql2 gives DATETIME as
 * a Date (in UTC, connection.ts) and BOOLEAN, a TINYINT, as 0 or 1.
 */
export function readSessionRow(row: unknown[]): StoredSession {
	return {
		session: {
			id: row[0] as string,
			userId: row[1] as string,
			token: row[2] as string,
			expiresAt: row[3] as Date,
			createdAt: row[4] as Date,
			updatedAt: row[5] as Date,
			ipAddress: row[6] as string | null,
			userAgent: row[7] as string | null,
			policy: row[8] as string,
			idleSeconds: row[9] as number,
			refreshSeconds: row[10] as number,
			absoluteExpiresAt: row[11] as Date | null,
			knownNetworks: row[12] as string,
			persistent: row[13] === 1,
			deviceKey: row[14] as string | null,
			deviceBoundAt: row[15] as Date | null
		},
		user: {
			id: row[16] as string,
			name: row[17] as string,
			email: row[18] as string,
			emailVerified: row[19] === 1,
			image: row[20] as string | null,
			createdAt: row[21] as Date,
			updatedAt: row[22] as Date
		}
	};
}
const SESSION_COLUMNS = `id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent,
	policy, idle_seconds, refresh_seconds, absolute_expires_at, known_networks, persistent, device_key, device_bound_at`;
export const EXTEND = 'UPDATE session SET expires_at = ?, updated_at = ? WHERE id = ? AND updated_at = ?';
export const INSERT_EVENT = `
	INSERT INTO security_event (id, user_id, session_id, type, created_at, ip_address, user_agent, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
export const SET_NETWORKS = 'UPDATE session SET known_networks = ? WHERE id = ? AND known_networks = ?';
export const BIND_DEVICE = 'UPDATE session SET device_key = ?, device_bound_at = ? WHERE id = ? AND device_key IS NULL';
export const ACTIVE_BY_USER = `
	SELECT ${SESSION_COLUMNS} FROM session
	WHERE user_id = ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)`;
export const COUNT_BY_POLICY = 'SELECT policy, COUNT(*) AS sessions FROM session WHERE expires_at >= ? GROUP BY policy';
/** The locking reads before a delete: a concurrent call waits for these rows, then finds them gone. */
export const LOCK_BY_TOKENS = 'SELECT id, token, user_id FROM session WHERE token IN (?) FOR UPDATE';
export const LOCK_BY_ID = 'SELECT id, token, user_id FROM session WHERE id = ? FOR UPDATE';
export const LOCK_BY_USER = 'SELECT id, token, user_id FROM session WHERE user_id = ? FOR UPDATE';
export const LOCK_OTHERS = 'SELECT id, token, user_id FROM session WHERE user_id = ? AND id <> ? FOR UPDATE';
export const LOCK_USER = 'SELECT id FROM `user` WHERE id = ? FOR UPDATE';
/**
 * Read without locking after LOCK_USER: the transaction's snapshot starts at its first plain
 * read (SESSION_EXISTS), after the lock was granted, so it holds every session committed
 * before. A locking read here would take gap locks on the user's index entries, where Better
 * Auth's concurrent inserts would wait.
 */
export const OTHERS_BY_ACTIVITY = `
	SELECT id FROM session
	WHERE user_id = ? AND id <> ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)
	ORDER BY updated_at DESC, created_at DESC, id DESC`;
export const SESSION_EXISTS = 'SELECT 1 FROM session WHERE id = ?';
export const LOCK_BY_IDS = 'SELECT id, token, user_id FROM session WHERE id IN (?) FOR UPDATE';
export const LOCK_OWN = `
	SELECT ${SESSION_COLUMNS} FROM session
	WHERE id = ? AND user_id = ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)
	FOR UPDATE`;
export const USER_BY_EMAIL = 'SELECT id, email FROM `user` WHERE email = ?';
export const ADDRESS_BY_ID = 'SELECT id, email FROM `user` WHERE id = ?';
export const CHANGE_EMAIL = 'UPDATE `user` SET email = ?, email_verified = TRUE, updated_at = ? WHERE id = ?';
export const DELETE_BY_IDS = 'DELETE FROM session WHERE id IN (?)';
export const DELETE_USER = 'DELETE FROM `user` WHERE id = ?';
export const EVENTS_PAGE = `
	SELECT id, user_id, session_id, type, created_at, ip_address, user_agent, detail FROM security_event
	WHERE user_id = ? ORDER BY created_at DESC LIMIT ? OFFSET ?`;
export const EVENTS_TOTAL = 'SELECT COUNT(*) AS total FROM security_event WHERE user_id = ?';
/**
 * One attempt against a window. `count` is assigned first, so both assignments read the row's
 * old `resets_at` whether the server assigns left to right (the default) or simultaneously
 * (MariaDB's SIMULTANEOUS_ASSIGNMENT).
 */
export const HIT_WINDOW = `
	INSERT INTO rate_limit_window (\`key\`, \`count\`, resets_at) VALUES (?, 1, ?)
	ON DUPLICATE KEY UPDATE
		\`count\` = IF(resets_at <= ?, 1, \`count\` + 1),
		resets_at = IF(resets_at <= ?, ?, resets_at)`;
export const READ_WINDOW = 'SELECT `count`, resets_at FROM rate_limit_window WHERE `key` = ?';
export const PURGE_SESSIONS = 'DELETE FROM session WHERE expires_at < ? ORDER BY expires_at LIMIT ?';
export const DELETE_CODES_OF = 'DELETE FROM verification WHERE identifier = ?';
export const INSERT_CODE = `INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?)`;
export const CODE_OF = 'SELECT id, value FROM verification WHERE identifier = ? ORDER BY created_at DESC LIMIT 1';
export const UPDATE_CODE = 'UPDATE verification SET value = ?, updated_at = ? WHERE id = ? AND value = ?';
export const SPEND_CODE = 'DELETE FROM verification WHERE id = ? AND value = ?';
export const PURGE_CODES = 'DELETE FROM verification WHERE expires_at < ?';
export const PURGE_WINDOWS = 'DELETE FROM rate_limit_window WHERE resets_at < ?';
export const PURGE_AUTH_LIMITS = 'DELETE FROM rate_limit WHERE last_request < ?';
/**
 * One row per hash (`VALUES ?` takes a list of rows). The first ending of a token is kept: a
 * later one finds the hash taken and leaves the row as it is (unlike INSERT IGNORE, which would
 * hide other errors as well).
 */
export const RECORD_ENDINGS = `INSERT INTO session_ending (token_hash, reason, ended_at, expires_at) VALUES ?
	ON DUPLICATE KEY UPDATE token_hash = token_hash`;
export const ENDING_OF = 'SELECT reason, ended_at FROM session_ending WHERE token_hash = ? AND expires_at > ?';
export const PURGE_ENDINGS = 'DELETE FROM session_ending WHERE expires_at < ?';
/**
 * Takes the lease when it is free, expired or already this holder's. `expires_at` moves exactly
 * when `holder` is (or becomes) this holder, under either order of assignment.
 */
export const ACQUIRE_LEASE = `
	INSERT INTO job_lease (name, holder, expires_at) VALUES (?, ?, ?)
	ON DUPLICATE KEY UPDATE
		holder = IF(expires_at < ? OR holder = ?, ?, holder),
		expires_at = IF(expires_at < ? OR holder = ?, ?, expires_at)`;
export const LEASE_HOLDER = 'SELECT holder FROM job_lease WHERE name = ?';
export const RELEASE_LEASE = 'DELETE FROM job_lease WHERE name = ? AND holder = ?';

const DAY_MS = 24 * 3600 * 1000;

type Runner = Pick<PoolConnection, 'query'>;

/** Runs one statement; the driver gives up a little after the server's own timeout would have. */
async function rowsOf<T>(database: MysqlDatabase, runner: Runner, sql: string, values: unknown[]): Promise<T[]> {
	const [rows] = await runner.query<RowDataPacket[]>({ sql, values, timeout: driverTimeoutMs(database) });
	return rows as T[];
}

/** Rows as arrays, which mysql2 builds more cheaply than objects, with the names of their columns. */
async function arraysOf(
	database: MysqlDatabase,
	runner: Runner,
	sql: string,
	values: unknown[]
): Promise<{ rows: Row[]; names: string[] }> {
	const [rows, fields] = await runner.query<RowDataPacket[][]>({
		sql,
		values,
		rowsAsArray: true,
		timeout: driverTimeoutMs(database)
	});
	return { rows: rows as Row[], names: (fields as FieldPacket[]).map((field) => field.name) };
}

/** The rows of a statement that reads every column of `table`, keyed as the schema is. */
async function wholeRows<T>(
	database: MysqlDatabase,
	sql: string,
	values: unknown[],
	table: typeof session | typeof securityEvent
): Promise<T[]> {
	const { rows, names } = await arraysOf(database, database.client, sql, values);
	const read = rowReader<T>(table, names);
	return rows.map((row) => read(row));
}

/** The number of rows a statement matched (mysql2 asks for found rows, not changed ones). */
async function affected(database: MysqlDatabase, runner: Runner, sql: string, values: unknown[]): Promise<number> {
	const [result] = await runner.query<ResultSetHeader>({ sql, values, timeout: driverTimeoutMs(database) });
	return result.affectedRows;
}

/**
 * InnoDB ends one of two transactions that wait on each other (a deadlock) and expects the
 * application to run it again; every transaction here can be run again as a whole.
 */
const DEADLOCK_RETRIES = 2;

/** Runs `work` in one transaction on one pooled connection, again after a deadlock. */
export async function inTransaction<T>(
	database: MysqlDatabase,
	work: (connection: PoolConnection) => Promise<T>
): Promise<T> {
	for (let attempt = 0; ; attempt++) {
		try {
			return await transactionOnce(database, work);
		} catch (error) {
			if (attempt >= DEADLOCK_RETRIES || (error as { code?: unknown }).code !== 'ER_LOCK_DEADLOCK') throw error;
		}
	}
}

/**
 * A connection that could not roll back, or that the driver gave up on, is closed rather than
 * handed to another request: the server rolls its transaction back when it goes.
 */
async function transactionOnce<T>(
	database: MysqlDatabase,
	work: (connection: PoolConnection) => Promise<T>
): Promise<T> {
	const connection = await database.client.getConnection();
	let broken = false;
	try {
		await connection.beginTransaction();
		const result = await work(connection);
		await connection.commit();
		return result;
	} catch (error) {
		broken = /^PROTOCOL_/.test(String((error as { code?: unknown }).code));
		if (!broken) await connection.rollback().catch(() => (broken = true));
		throw error;
	} finally {
		if (broken) connection.destroy();
		else connection.release();
	}
}

/** Thrown inside a transaction to roll it back when another request won the row. */
class AlreadyChanged extends Error {}

const endedOf = (row: { id: string; token: string; user_id: string }): EndedSession => ({
	id: row.id,
	token: row.token,
	userId: row.user_id
});

/**
 * Locks the sessions `lock` selects and deletes them, inside the caller's transaction. A
 * concurrent call waits for the locks, then finds the rows gone: each row is returned by the
 * one call that deleted it.
 */
async function deleteLocked(
	database: MysqlDatabase,
	connection: PoolConnection,
	lock: string,
	values: unknown[]
): Promise<EndedSession[]> {
	const found = await rowsOf<{ id: string; token: string; user_id: string }>(database, connection, lock, values);
	if (found.length > 0) await affected(database, connection, DELETE_BY_IDS, [found.map((row) => row.id)]);
	return found.map(endedOf);
}

const endLocked = (database: MysqlDatabase, lock: string, values: unknown[]) =>
	inTransaction(database, (connection) => deleteLocked(database, connection, lock, values));

/** The sessions rows Latchkey reads and writes itself, named as the storage port names them. */
export function mysqlSessionRows(database: MysqlDatabase, options: { batchLoader?: boolean } = {}) {
	const pool = database.client;
	/** The sessions of these tokens with their users, by token: one round trip for a whole batch of lookups. */
	const findByTokens = async (tokens: string[]): Promise<Map<string, StoredSession>> => {
		if (tokens.length === 0) return new Map();
		const { rows } = await arraysOf(database, pool, SESSIONS_BY_TOKENS, [tokens]);
		const found = rows.map(readSessionRow);
		return new Map(found.map((stored) => [stored.session.token, stored]));
	};
	const findOne = options.batchLoader
		? createBatchLoader(findByTokens)
		: async (token: string) => (await findByTokens([token])).get(token);
	return {
		findByTokens,
		/** One token's session; lookups of one event-loop turn share a query when batching is on. */
		findByToken: async (token: string) => (await findOne(token)) ?? null,
		/** Moves expiresAt unless another request refreshed since `seenRefreshAt`; true when this call wrote. */
		async extend(sessionId: string, expiresAt: Date, refreshedAt: Date, seenRefreshAt: Date): Promise<boolean> {
			return (await affected(database, pool, EXTEND, [expiresAt, refreshedAt, sessionId, seenRefreshAt])) === 1;
		},
		/**
		 * The event and the session's new networks together, or neither. A concurrent transaction
		 * on the same row waits for its lock, then finds the networks changed.
		 */
		async recordNetwork(event: SecurityEventRow, change: NetworksChange): Promise<boolean> {
			try {
				await inTransaction(database, async (connection) => {
					await affected(database, connection, INSERT_EVENT, securityEventValues(event));
					const written = await affected(database, connection, SET_NETWORKS, [
						change.networks,
						change.sessionId,
						change.seen
					]);
					if (written !== 1) throw new AlreadyChanged();
				});
				return true;
			} catch (error) {
				if (error instanceof AlreadyChanged) return false;
				throw error;
			}
		},
		async bindDevice(sessionId: string, deviceKey: string, boundAt: Date): Promise<boolean> {
			return (await affected(database, pool, BIND_DEVICE, [deviceKey, boundAt, sessionId])) === 1;
		},
		async listActiveByUser(userId: string, now: Date): Promise<SessionRecord[]> {
			return wholeRows<SessionRecord>(database, ACTIVE_BY_USER, [userId, now, now], session);
		},
		async countActiveByPolicy(now: Date): Promise<Array<{ policy: string; sessions: number }>> {
			const rows = await rowsOf<{ policy: string; sessions: number | string }>(database, pool, COUNT_BY_POLICY, [now]);
			return rows.map(({ policy, sessions }) => ({ policy, sessions: Number(sessions) }));
		},
		endByTokens: async (tokens: string[]) => (tokens.length === 0 ? [] : endLocked(database, LOCK_BY_TOKENS, [tokens])),
		endById: async (sessionId: string) => (await endLocked(database, LOCK_BY_ID, [sessionId]))[0] ?? null,
		endByUser: (userId: string) => endLocked(database, LOCK_BY_USER, [userId]),
		endOthers: (userId: string, keptSessionId: string) => endLocked(database, LOCK_OTHERS, [userId, keptSessionId]),
		/** The user's row locked first: concurrent calls for one user wait for it, one after another. */
		endBeyondLimit: (userId: string, keptSessionId: string, limit: number, now: Date) =>
			inTransaction(database, async (connection) => {
				await rowsOf(database, connection, LOCK_USER, [userId]);
				const kept = await rowsOf(database, connection, SESSION_EXISTS, [keptSessionId]);
				if (kept.length === 0) return [];
				const others = await rowsOf<{ id: string }>(database, connection, OTHERS_BY_ACTIVITY, [
					userId,
					keptSessionId,
					now,
					now
				]);
				const beyond = others.slice(limit - 1).map((row) => row.id);
				return beyond.length === 0 ? [] : deleteLocked(database, connection, LOCK_BY_IDS, [beyond]);
			}),
		refuseBeyondLimit: (userId: string, newSessionId: string, limit: number, now: Date) =>
			inTransaction(database, async (connection) => {
				await rowsOf(database, connection, LOCK_USER, [userId]);
				const created = await rowsOf(database, connection, SESSION_EXISTS, [newSessionId]);
				if (created.length === 0) return null;
				const others = await rowsOf(database, connection, OTHERS_BY_ACTIVITY, [userId, newSessionId, now, now]);
				if (others.length < limit) return null;
				const [refused] = await deleteLocked(database, connection, LOCK_BY_IDS, [[newSessionId]]);
				return refused ?? null;
			}),
		/** The user's active session with this id, read whole under its lock, then deleted. */
		endOwn: (userId: string, sessionId: string, now: Date): Promise<SessionRecord | null> =>
			inTransaction(database, async (connection) => {
				const { rows, names } = await arraysOf(database, connection, LOCK_OWN, [sessionId, userId, now, now]);
				const [row] = rows;
				if (!row) return null;
				await affected(database, connection, DELETE_BY_IDS, [[sessionId]]);
				return rowReader<SessionRecord>(session, names)(row);
			}),
		/** The user, their sessions (returned) and, by the foreign key, their accounts, in one transaction. */
		deleteUser: (userId: string) =>
			inTransaction(database, async (connection) => {
				const ended = await deleteLocked(database, connection, LOCK_BY_USER, [userId]);
				await affected(database, connection, DELETE_USER, [userId]);
				return ended;
			})
	};
}

export function mysqlUsers(database: MysqlDatabase) {
	return {
		/** The user whose email is exactly `email`; null when none. */
		findByEmail: async (email: string) =>
			(await rowsOf<{ id: string; email: string }>(database, database.client, USER_BY_EMAIL, [email]))[0] ?? null,
		findById: async (userId: string) =>
			(await rowsOf<{ id: string; email: string }>(database, database.client, ADDRESS_BY_ID, [userId]))[0] ?? null,
		/** Matched rows, not changed ones (see affected): the same address again is still `changed`. */
		async changeEmail(userId: string, email: string, now: Date): Promise<EmailChange> {
			try {
				return (await affected(database, database.client, CHANGE_EMAIL, [email, now, userId])) === 1
					? 'changed'
					: 'no-user';
			} catch (error) {
				if ((error as { code?: unknown }).code === 'ER_DUP_ENTRY') return 'taken';
				throw error;
			}
		}
	};
}

export function mysqlSecurityEvents(database: MysqlDatabase) {
	const pool = database.client;
	return {
		record: async (event: SecurityEventRow) =>
			void (await affected(database, pool, INSERT_EVENT, securityEventValues(event))),
		/** A page of the user's events, newest first, and how many they have in all. */
		async page(userId: string, limit: number, offset: number): Promise<{ rows: SecurityEventRow[]; total: number }> {
			const [rows, totals] = await Promise.all([
				wholeRows<SecurityEventRow>(database, EVENTS_PAGE, [userId, limit, offset], securityEvent),
				rowsOf<{ total: number | string }>(database, pool, EVENTS_TOTAL, [userId])
			]);
			return { rows, total: Number(totals[0]?.total ?? 0) };
		}
	};
}

export function mysqlRateLimits(database: MysqlDatabase) {
	return {
		/**
		 * Counts one attempt against `key`: a window that ended by `now` starts over with this
		 * attempt, lasting `windowMs`. The upsert locks the row until the read of what it wrote.
		 */
		hit: (key: string, windowMs: number, now: number): Promise<{ count: number; resetsAt: number }> =>
			inTransaction(database, async (connection) => {
				const resetsAt = now + windowMs;
				await affected(database, connection, HIT_WINDOW, [key, resetsAt, now, now, resetsAt]);
				const [row] = await rowsOf<{ count: number; resets_at: number | string }>(database, connection, READ_WINDOW, [
					key
				]);
				return { count: Number(row!.count), resetsAt: Number(row!.resets_at) };
			})
	};
}

export function mysqlCodes(database: MysqlDatabase) {
	const pool = database.client;
	return {
		replace: (code: CodeRecord, now: Date) =>
			inTransaction(database, async (connection) => {
				await affected(database, connection, DELETE_CODES_OF, [code.holder]);
				await affected(database, connection, INSERT_CODE, [code.id, code.holder, code.value, code.expiresAt, now, now]);
			}),
		find: async (holder: string) =>
			(await rowsOf<{ id: string; value: string }>(database, pool, CODE_OF, [holder]))[0] ?? null,
		update: async (id: string, seen: string, value: string, now: Date) =>
			(await affected(database, pool, UPDATE_CODE, [value, now, id, seen])) === 1,
		spend: async (id: string, seen: string) => (await affected(database, pool, SPEND_CODE, [id, seen])) === 1
	};
}

export function mysqlEndings(database: MysqlDatabase) {
	const pool = database.client;
	return {
		async record(tokenHashes: string[], reason: string, endedAt: Date, expiresAt: Date): Promise<void> {
			if (tokenHashes.length === 0) return;
			const rows = tokenHashes.map((hash) => [hash, reason, endedAt, expiresAt]);
			await affected(database, pool, RECORD_ENDINGS, [rows]);
		},
		async find(tokenHash: string, now: Date): Promise<{ reason: string; endedAt: Date } | null> {
			const [row] = await rowsOf<{ reason: string; ended_at: Date }>(database, pool, ENDING_OF, [tokenHash, now]);
			return row ? { reason: row.reason, endedAt: row.ended_at } : null;
		}
	};
}

export function mysqlPurge(database: MysqlDatabase) {
	const pool = database.client;
	return {
		/** Deletes at most `limit` sessions whose expiresAt is before `now`, oldest first; returns how many. */
		expiredSessions: (now: number, limit: number) => affected(database, pool, PURGE_SESSIONS, [new Date(now), limit]),
		/** Deletes expired sign-in codes, finished rate-limit windows and expired ending reasons; returns how many rows. */
		expiredOther: async (now: number) =>
			(await affected(database, pool, PURGE_CODES, [new Date(now)])) +
			(await affected(database, pool, PURGE_ENDINGS, [new Date(now)])) +
			(await affected(database, pool, PURGE_WINDOWS, [now])) +
			(await affected(database, pool, PURGE_AUTH_LIMITS, [now - DAY_MS])),
		/** Takes the lease when it is free, expired or already this holder's; true when taken. */
		acquireLease: (name: string, holder: string, ttlMs: number, now: number) =>
			inTransaction(database, async (connection) => {
				const expiresAt = now + ttlMs;
				const values = [name, holder, expiresAt, now, holder, holder, now, holder, expiresAt];
				await affected(database, connection, ACQUIRE_LEASE, values);
				const [row] = await rowsOf<{ holder: string }>(database, connection, LEASE_HOLDER, [name]);
				return row?.holder === holder;
			}),
		releaseLease: async (name: string, holder: string) =>
			void (await affected(database, pool, RELEASE_LEASE, [name, holder]))
	};
}

/** A cheap round trip, for /healthz. */
export async function pingMysql(database: MysqlDatabase): Promise<void> {
	await rowsOf(database, database.client, 'SELECT 1', []);
}

/**
 * The storage port on a MySQL or MariaDB pool: every statement is a round trip that leaves the
 * event loop free.
 */
export function mysqlStorage(database: MysqlDatabase, options: StorageOptions = {}): Omit<Storage, 'classifyFault'> {
	const { batchLoader = true } = options.performance ?? {};
	return {
		engine: 'mysql',
		description: describeMysql(database.url),
		betterAuth: { db: database.db, provider: 'mysql', schema: database.schema },
		runsOnEventLoop: false,
		sessions: mysqlSessionRows(database, { batchLoader }),
		users: mysqlUsers(database),
		securityEvents: mysqlSecurityEvents(database),
		rateLimits: mysqlRateLimits(database),
		codes: mysqlCodes(database),
		endings: mysqlEndings(database),
		purge: mysqlPurge(database),
		migrate: (root) => migrateMysql(database, root),
		ping: () => pingMysql(database),
		close: () => database.close()
	};
}
