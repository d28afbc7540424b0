import { resolve } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { createBatchLoader } from '../batch-loader';
import { rowReader, type Row } from '../columns';
import type {
	EmailChange,
	EndedSession,
	SecurityEventRow,
	SessionRecord,
	Storage,
	StorageOptions,
	StoredSession,
	UserRecord
} from '../port';
import { whileLocked } from './busy';
import type { SqliteDatabase } from './connection';
import { migrateSqlite } from './migrate';
import { securityEvent, session } from './schema';

export const MIGRATIONS_DIR = 'drizzle/sqlite';

/**
 * How long a write waits, off the event loop, for another connection's write lock before it
 * fails as a fault: this, or the statement timeout when that is shorter, so that a request on
 * SQLite answers within the statement timeout as it does on a server.
 */
const LONGEST_LOCK_WAIT_MS = 5000;

/**
 * The per-request lookup: two single-table reads by unique key, not the join, since in
 * better-sqlite3 the join costs more CPU per call (docs/decisions/0005-two-lookups-on-sqlite.md).
 * A user deleted between the two reads took their sessions with them (ON DELETE CASCADE): the
 * request is signed out. readSessionRow and readUserRow, below, read them in this order;
 * storage.spec.ts holds both to the schema.
 */
export const SESSION_BY_TOKEN = `
	SELECT id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent,
		policy, idle_seconds, refresh_seconds, absolute_expires_at, known_networks, persistent,
		device_key, device_bound_at
	FROM session WHERE token = ?`;
export const USER_BY_ID =
	'SELECT id, name, email, email_verified, image, created_at, updated_at FROM "user" WHERE id = ?';

/** One row of SESSION_BY_TOKEN, column by column as it selects them: times as epoch milliseconds, booleans 0 or 1. */
export function readSessionRow(row: unknown[]): SessionRecord {
	return {
		id: row[0] as string,
		userId: row[1] as string,
		token: row[2] as string,
		expiresAt: new Date(row[3] as number),
		createdAt: new Date(row[4] as number),
		updatedAt: new Date(row[5] as number),
		ipAddress: row[6] as string | null,
		userAgent: row[7] as string | null,
		policy: row[8] as string,
		idleSeconds: row[9] as number,
		refreshSeconds: row[10] as number,
		absoluteExpiresAt: row[11] == null ? null : new Date(row[11] as number),
		knownNetworks: row[12] as string,
		persistent: row[13] === 1,
		deviceKey: row[14] as string | null,
		deviceBoundAt: row[15] == null ? null : new Date(row[15] as number)
	};
}

/** One row of USER_BY_ID, column by column as it selects them. */
export function readUserRow(row: unknown[]): UserRecord {
	return {
		id: row[0] as string,
		name: row[1] as string,
		email: row[2] as string,
		emailVerified: row[3] === 1,
		image: row[4] as string | null,
		createdAt: new Date(row[5] as number),
		updatedAt: new Date(row[6] as number)
	};
}

// The other whole rows are read by the schema's columns (../columns.ts). Times are stored as
// epoch milliseconds, booleans as 0/1.
const EXTEND = 'UPDATE session SET expires_at = ?, updated_at = ? WHERE id = ? AND updated_at = ?';
const INSERT_EVENT = `INSERT INTO security_event (id, user_id, session_id, type, created_at, ip_address, user_agent, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
const SET_NETWORKS = 'UPDATE session SET known_networks = ? WHERE id = ? AND known_networks = ?';
const BIND_DEVICE = 'UPDATE session SET device_key = ?, device_bound_at = ? WHERE id = ? AND device_key IS NULL';
const ACTIVE_BY_USER = `SELECT * FROM session
	WHERE user_id = ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)`;
const COUNT_BY_POLICY = 'SELECT policy, count(*) AS sessions FROM session WHERE expires_at >= ? GROUP BY policy';
const ENDED = 'RETURNING id, token, user_id AS userId';
const END_BY_TOKENS = `DELETE FROM session WHERE token IN (SELECT value FROM json_each(?)) ${ENDED}`;
const END_BY_ID = `DELETE FROM session WHERE id = ? ${ENDED}`;
const END_BY_USER = `DELETE FROM session WHERE user_id = ? ${ENDED}`;
const END_OTHERS = `DELETE FROM session WHERE user_id = ? AND id <> ? ${ENDED}`;
const END_BEYOND_LIMIT = `DELETE FROM session WHERE id IN (
	SELECT id FROM session
	WHERE user_id = ? AND id <> ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)
	ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT -1 OFFSET ?
) AND EXISTS (SELECT 1 FROM session WHERE id = ?) ${ENDED}`;
const REFUSE_BEYOND_LIMIT = `DELETE FROM session WHERE id = ? AND (
	SELECT count(*) FROM session
	WHERE user_id = ? AND id <> ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)
) >= ? ${ENDED}`;
const END_OWN = `DELETE FROM session
	WHERE id = ? AND user_id = ? AND expires_at >= ? AND (absolute_expires_at IS NULL OR absolute_expires_at > ?)
	RETURNING *`;
const USER_BY_EMAIL = 'SELECT id, email FROM "user" WHERE email = ?';
const ADDRESS_BY_ID = 'SELECT id, email FROM "user" WHERE id = ?';
const CHANGE_EMAIL = 'UPDATE "user" SET email = ?, email_verified = 1, updated_at = ? WHERE id = ?';
const DELETE_USER = 'DELETE FROM "user" WHERE id = ?';
const EVENTS_PAGE = 'SELECT * FROM security_event WHERE user_id = ? ORDER BY created_at DESC LIMIT ? OFFSET ?';
const EVENTS_TOTAL = 'SELECT count(*) FROM security_event WHERE user_id = ?';
const HIT_WINDOW = `
	INSERT INTO rate_limit_window (key, count, resets_at) VALUES (?, 1, ?)
	ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN rate_limit_window.resets_at <= ? THEN 1 ELSE rate_limit_window.count + 1 END,
		resets_at = CASE WHEN rate_limit_window.resets_at <= ? THEN excluded.resets_at ELSE rate_limit_window.resets_at END
	RETURNING count, resets_at`;
const DELETE_CODES_OF = 'DELETE FROM verification WHERE identifier = ?';
const INSERT_CODE = `INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?)`;
const CODE_OF = 'SELECT id, value FROM verification WHERE identifier = ? ORDER BY created_at DESC LIMIT 1';
const UPDATE_CODE = 'UPDATE verification SET value = ?, updated_at = ? WHERE id = ? AND value = ?';
const SPEND_CODE = 'DELETE FROM verification WHERE id = ? AND value = ?';
const PURGE_SESSIONS = 'DELETE FROM session WHERE id IN (SELECT id FROM session WHERE expires_at < ? LIMIT ?)';
const PURGE_CODES = 'DELETE FROM verification WHERE expires_at < ?';
const PURGE_WINDOWS = 'DELETE FROM rate_limit_window WHERE resets_at < ?';
const PURGE_AUTH_LIMITS = 'DELETE FROM rate_limit WHERE last_request < ?';
/** The first ending of a token is kept: a later one finds the hash taken and writes nothing. */
const RECORD_ENDING = `INSERT INTO session_ending (token_hash, reason, ended_at, expires_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (token_hash) DO NOTHING`;
const ENDING_OF = 'SELECT reason, ended_at FROM session_ending WHERE token_hash = ? AND expires_at > ?';
const PURGE_ENDINGS = 'DELETE FROM session_ending WHERE expires_at < ?';
const ACQUIRE_LEASE = `
	INSERT INTO job_lease (name, holder, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE job_lease.expires_at < ? OR job_lease.holder = excluded.holder
	RETURNING holder`;
const RELEASE_LEASE = 'DELETE FROM job_lease WHERE name = ? AND holder = ?';

const DAY_MS = 24 * 3600 * 1000;

/** Thrown inside the transaction to roll the event back when another request won the row. */
class AlreadyChanged extends Error {}

/**
 * The storage port on one SQLite connection. better-sqlite3 runs every statement on the event
 * loop, so statements are prepared once and kept short; a write that finds the database
 * locked by another connection waits off the event loop (busy.ts).
 */
export function sqliteStorage(database: SqliteDatabase, options: StorageOptions = {}): Omit<Storage, 'classifyFault'> {
	const { client } = database;
	const lockWaitMs = options.lockWaitMs ?? Math.min(LONGEST_LOCK_WAIT_MS, options.statementTimeoutMs ?? Infinity);
	const { batchLoader = true } = options.performance ?? {};
	const write = <T>(work: () => T) => whileLocked(work, lockWaitMs, client);
	const prepare = <P extends unknown[], R = unknown>(sql: string) => client.prepare<P, R>(sql);
	/**
	 * The rows of a statement that writes (`INSERT … RETURNING`, `DELETE … RETURNING`). `all()`
	 * runs it to its end: `get()` stops after the first row and drops the failure of the commit
	 * that follows (a read-only file, a full disk), returning a row although nothing was written.
	 */
	const returned = <P extends unknown[], R>(statement: Statement<P, R>, ...values: P): R[] => statement.all(...values);

	const names = (statement: Statement) => statement.columns().map((column) => column.name);
	/** Prepared on first use: the storage is opened before the migrations create the tables. */
	const prepareAll = () => {
		const sessionByToken = prepare<[string], Row>(SESSION_BY_TOKEN).raw(true);
		const userById = prepare<[string], Row>(USER_BY_ID).raw(true);
		const findByTokens = async (tokens: string[]) => {
			const found = new Map<string, StoredSession>();
			for (const token of tokens) {
				const sessionRow = sessionByToken.get(token);
				const userRow = sessionRow && userById.get(sessionRow[1] as string);
				if (userRow) found.set(token, { session: readSessionRow(sessionRow), user: readUserRow(userRow) });
			}
			return found;
		};
		const findOne = batchLoader
			? createBatchLoader(findByTokens)
			: async (token: string) => (await findByTokens([token])).get(token);

		const extend = prepare<[number, number, string, number]>(EXTEND);
		const insertEvent = prepare<unknown[]>(INSERT_EVENT);
		const setNetworks = prepare<[string, string, string]>(SET_NETWORKS);
		const bindDevice = prepare<[string, number, string]>(BIND_DEVICE);
		const activeByUser = prepare<[string, number, number], Row>(ACTIVE_BY_USER).raw(true);
		const readActive = rowReader<SessionRecord>(session, names(activeByUser));
		const countByPolicy = prepare<[number], { policy: string; sessions: number }>(COUNT_BY_POLICY);
		const endByTokens = prepare<[string], EndedSession>(END_BY_TOKENS);
		const endById = prepare<[string], EndedSession>(END_BY_ID);
		const endByUser = prepare<[string], EndedSession>(END_BY_USER);
		const endOthers = prepare<[string, string], EndedSession>(END_OTHERS);
		const endBeyondLimit = prepare<[string, string, number, number, number, string], EndedSession>(END_BEYOND_LIMIT);
		const refuseBeyondLimit = prepare<[string, string, string, number, number, number], EndedSession>(
			REFUSE_BEYOND_LIMIT
		);
		const endOwn = prepare<[string, string, number, number], Row>(END_OWN).raw(true);
		const readEndedOwn = rowReader<SessionRecord>(session, names(endOwn));
		const userByEmail = prepare<[string], { id: string; email: string }>(USER_BY_EMAIL);
		const addressById = prepare<[string], { id: string; email: string }>(ADDRESS_BY_ID);
		const deleteUser = prepare<[string]>(DELETE_USER);
		const changeEmail = prepare<[string, number, string]>(CHANGE_EMAIL);
		const eventsPage = prepare<[string, number, number], Row>(EVENTS_PAGE).raw(true);
		const readEvent = rowReader<SecurityEventRow>(securityEvent, names(eventsPage));
		const eventsTotal = prepare<[string], [number]>(EVENTS_TOTAL).raw(true);
		const hitWindow = prepare<[string, number, number, number], [number, number]>(HIT_WINDOW).raw(true);
		const deleteCodesOf = prepare<[string]>(DELETE_CODES_OF);
		const insertCode = prepare<[string, string, string, number, number, number]>(INSERT_CODE);
		const codeOf = prepare<[string], { id: string; value: string }>(CODE_OF);
		const updateCode = prepare<[string, number, string, string]>(UPDATE_CODE);
		const spendCode = prepare<[string, string]>(SPEND_CODE);
		const purgeSessions = prepare<[number, number]>(PURGE_SESSIONS);
		const recordEnding = prepare<[string, string, number, number]>(RECORD_ENDING);
		const endingOf = prepare<[string, number], [string, number]>(ENDING_OF).raw(true);
		const purgeOther = [PURGE_CODES, PURGE_WINDOWS, PURGE_ENDINGS].map((sql) => prepare<[number]>(sql));
		const purgeAuthLimits = prepare<[number]>(PURGE_AUTH_LIMITS);
		const acquireLease = prepare<[string, string, number, number], { holder: string }>(ACQUIRE_LEASE);
		const releaseLease = prepare<[string, string]>(RELEASE_LEASE);
		return {
			findOne,
			extend,
			insertEvent,
			setNetworks,
			bindDevice,
			activeByUser,
			readActive,
			countByPolicy,
			endByTokens,
			endById,
			endByUser,
			endOthers,
			endBeyondLimit,
			refuseBeyondLimit,
			endOwn,
			readEndedOwn,
			userByEmail,
			addressById,
			changeEmail,
			deleteUser,
			eventsPage,
			readEvent,
			eventsTotal,
			hitWindow,
			deleteCodesOf,
			insertCode,
			codeOf,
			updateCode,
			spendCode,
			recordEnding,
			endingOf,
			purgeSessions,
			purgeOther,
			purgeAuthLimits,
			acquireLease,
			releaseLease
		};
	};
	let prepared: ReturnType<typeof prepareAll> | undefined;
	const q = () => (prepared ??= prepareAll());

	const eventValues = (event: SecurityEventRow) => [
		event.id,
		event.userId,
		event.sessionId,
		event.type,
		event.createdAt.getTime(),
		event.ipAddress,
		event.userAgent,
		event.detail
	];

	return {
		engine: 'sqlite',
		description: `SQLite at ${client.name}`,
		betterAuth: { db: database.db, provider: 'sqlite', schema: database.schema },
		runsOnEventLoop: true,
		sessions: {
			findByToken: async (token) => (await q().findOne(token)) ?? null,
			extend: (sessionId, expiresAt, refreshedAt, seenRefreshAt) =>
				write(
					() =>
						q().extend.run(expiresAt.getTime(), refreshedAt.getTime(), sessionId, seenRefreshAt.getTime()).changes === 1
				),
			async recordNetwork(event, change) {
				try {
					await write(
						client.transaction(() => {
							q().insertEvent.run(...eventValues(event));
							if (q().setNetworks.run(change.networks, change.sessionId, change.seen).changes !== 1)
								throw new AlreadyChanged();
						})
					);
					return true;
				} catch (error) {
					if (error instanceof AlreadyChanged) return false;
					throw error;
				}
			},
			bindDevice: (sessionId, deviceKey, boundAt) =>
				write(() => q().bindDevice.run(deviceKey, boundAt.getTime(), sessionId).changes === 1),
			async listActiveByUser(userId, now) {
				return q()
					.activeByUser.all(userId, now.getTime(), now.getTime())
					.map((row) => q().readActive(row));
			},
			async countActiveByPolicy(now) {
				return q().countByPolicy.all(now.getTime());
			},
			endByTokens: (tokens) => write(() => returned(q().endByTokens, JSON.stringify(tokens))),
			endById: (sessionId) => write(() => returned(q().endById, sessionId)[0] ?? null),
			endByUser: (userId) => write(() => returned(q().endByUser, userId)),
			endOthers: (userId, keptSessionId) => write(() => returned(q().endOthers, userId, keptSessionId)),
			// BEGIN IMMEDIATE: the write lock is taken before the read, so another process's sign-in
			// cannot add a session between this count and this delete.
			endBeyondLimit: (userId, keptSessionId, limit, now) =>
				write(() =>
					client
						.transaction(() =>
							returned(
								q().endBeyondLimit,
								userId,
								keptSessionId,
								now.getTime(),
								now.getTime(),
								limit - 1,
								keptSessionId
							)
						)
						.immediate()
				),
			refuseBeyondLimit: (userId, newSessionId, limit, now) =>
				write(() =>
					client
						.transaction(
							() =>
								returned(
									q().refuseBeyondLimit,
									newSessionId,
									userId,
									newSessionId,
									now.getTime(),
									now.getTime(),
									limit
								)[0] ?? null
						)
						.immediate()
				),
			endOwn: (userId, sessionId, now) =>
				write(() => {
					const [row] = returned(q().endOwn, sessionId, userId, now.getTime(), now.getTime());
					return row ? q().readEndedOwn(row) : null;
				}),
			deleteUser: (userId) =>
				write(
					client.transaction(() => {
						const ended = returned(q().endByUser, userId);
						q().deleteUser.run(userId);
						return ended;
					})
				)
		},
		users: {
			findByEmail: async (email) => q().userByEmail.get(email) ?? null,
			findById: async (userId) => q().addressById.get(userId) ?? null,
			changeEmail: (userId, email, now) =>
				write((): EmailChange => {
					try {
						return q().changeEmail.run(email, now.getTime(), userId).changes === 1 ? 'changed' : 'no-user';
					} catch (error) {
						if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'taken';
						throw error;
					}
				})
		},
		securityEvents: {
			record: (event) => write(() => void q().insertEvent.run(...eventValues(event))),
			async page(userId, limit, offset) {
				return {
					rows: q()
						.eventsPage.all(userId, limit, offset)
						.map((row) => q().readEvent(row)),
					total: q().eventsTotal.get(userId)?.[0] ?? 0
				};
			}
		},
		rateLimits: {
			async hit(key, windowMs, now) {
				const [count, resetsAt] = await write(() => returned(q().hitWindow, key, now + windowMs, now, now)[0]!);
				return { count, resetsAt };
			}
		},
		codes: {
			replace: (code, now) =>
				write(() =>
					client.transaction(() => {
						q().deleteCodesOf.run(code.holder);
						q().insertCode.run(
							code.id,
							code.holder,
							code.value,
							code.expiresAt.getTime(),
							now.getTime(),
							now.getTime()
						);
					})()
				),
			find: async (holder) => q().codeOf.get(holder) ?? null,
			update: (id, seen, value, now) => write(() => q().updateCode.run(value, now.getTime(), id, seen).changes === 1),
			spend: (id, seen) => write(() => q().spendCode.run(id, seen).changes === 1)
		},
		endings: {
			record: (tokenHashes, reason, endedAt, expiresAt) =>
				write(() =>
					client.transaction(() => {
						for (const hash of tokenHashes) q().recordEnding.run(hash, reason, endedAt.getTime(), expiresAt.getTime());
					})()
				),
			async find(tokenHash, now) {
				const row = q().endingOf.get(tokenHash, now.getTime());
				return row ? { reason: row[0], endedAt: new Date(row[1]) } : null;
			}
		},
		purge: {
			expiredSessions: (now, limit) => write(() => q().purgeSessions.run(now, limit).changes),
			expiredOther: (now) =>
				write(() =>
					client.transaction(() =>
						[
							...q().purgeOther.map((statement) => statement.run(now).changes),
							q().purgeAuthLimits.run(now - DAY_MS).changes
						].reduce((sum, changes) => sum + changes, 0)
					)()
				),
			acquireLease: (name, holder, ttlMs, now) =>
				write(() => returned(q().acquireLease, name, holder, now + ttlMs, now)[0]?.holder === holder),
			releaseLease: (name, holder) => write(() => void q().releaseLease.run(name, holder))
		},
		migrate: (root = process.cwd()) => migrateSqlite(database, resolve(root, MIGRATIONS_DIR)),
		async ping() {
			client.prepare('SELECT 1').get();
		},
		close: () => database.close()
	};
}
