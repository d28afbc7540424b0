import { resolve } from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { createBatchLoader } from '../batch-loader';
import { rowReader, securityEventValues, type Row } from '../columns';
import type {
	EmailChange,
	EndedSession,
	SecurityEventRow,
	SessionRecord,
	Storage,
	StorageOptions,
	StoredSession
} from '../port';
import { redactCredentials } from '../redact';
import type { PostgresDatabase } from './connection';
import { postgresFaultOf } from './faults';
import { securityEvent, session } from './schema';

export const MIGRATIONS_DIR = 'drizzle/postgres';

/** Any fixed number: every Latchkey instance asks for the same advisory lock. */
const MIGRATION_LOCK = 7_361_425;

/**
 * The sessions of many tokens with their users, each row as one JSON array with times as epoch
 * milliseconds: pg describes and parses every column of every row it receives (a type parser
 * each, a Date per timestamp), and one text column costs this process less CPU per lookup
 * (docs/decisions/0004-postgres-json-row.md). readSessionRow, below, reads it in this order;
 * storage.spec.ts holds both to the schema.
 */
export const SESSIONS_BY_TOKENS = `
	SELECT json_build_array(
		s.id, s.user_id, s.token,
		(extract(epoch from s.expires_at) * 1000)::float8,
		(extract(epoch from s.created_at) * 1000)::float8,
		(extract(epoch from s.updated_at) * 1000)::float8,
		s.ip_address, s.user_agent, s.policy, s.idle_seconds, s.refresh_seconds,
		(extract(epoch from s.absolute_expires_at) * 1000)::float8,
		s.known_networks, s.persistent, s.device_key,
		(extract(epoch from s.device_bound_at) * 1000)::float8,
		u.id, u.name, u.email, u.email_verified, u.image,
		(extract(epoch from u.created_at) * 1000)::float8,
		(extract(epoch from u.updated_at) * 1000)::float8
	)::text
	FROM session s JOIN "user" u ON u.id = s.user_id
	WHERE s.token = ANY($1)`;

/** One row of SESSIONS_BY_TOKENS, its JSON text parsed, column by column as it selects them. */
export function readSessionRow(row: unknown[]): StoredSession {
	return {
		session: {
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
			persistent: row[13] as boolean,
			deviceKey: row[14] as string | null,
			deviceBoundAt: row[15] == null ? null : new Date(row[15] as number)
		},
		user: {
			id: row[16] as string,
			name: row[17] as string,
			email: row[18] as string,
			emailVerified: row[19] as boolean,
			image: row[20] as string | null,
			createdAt: new Date(row[21] as number),
			updatedAt: new Date(row[22] as number)
		}
	};
}

const EXTEND = 'UPDATE session SET expires_at = $1, updated_at = $2 WHERE id = $3 AND updated_at = $4';
const INSERT_EVENT = `INSERT INTO security_event (id, user_id, session_id, type, created_at, ip_address, user_agent, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
const SET_NETWORKS = 'UPDATE session SET known_networks = $1 WHERE id = $2 AND known_networks = $3';
const BIND_DEVICE = 'UPDATE session SET device_key = $1, device_bound_at = $2 WHERE id = $3 AND device_key IS NULL';
const ACTIVE_BY_USER = `SELECT * FROM session
	WHERE user_id = $1 AND expires_at >= $2 AND (absolute_expires_at IS NULL OR absolute_expires_at > $2)`;
const COUNT_BY_POLICY = 'SELECT policy, count(*) AS sessions FROM session WHERE expires_at >= $1 GROUP BY policy';
const ENDED = 'RETURNING id, token, user_id AS "userId"';
const END_BY_TOKENS = `DELETE FROM session WHERE token = ANY($1) ${ENDED}`;
const END_BY_ID = `DELETE FROM session WHERE id = $1 ${ENDED}`;
const END_BY_USER = `DELETE FROM session WHERE user_id = $1 ${ENDED}`;
const END_OTHERS = `DELETE FROM session WHERE user_id = $1 AND id <> $2 ${ENDED}`;
const LOCK_USER = 'SELECT id FROM "user" WHERE id = $1 FOR UPDATE';
/** Read committed: run after LOCK_USER, it sees every session committed before the lock was granted. */
const END_BEYOND_LIMIT = `DELETE FROM session WHERE id IN (
	SELECT id FROM session
	WHERE user_id = $1 AND id <> $2 AND expires_at >= $3 AND (absolute_expires_at IS NULL OR absolute_expires_at > $3)
	ORDER BY updated_at DESC, created_at DESC, id DESC OFFSET $4
) AND EXISTS (SELECT 1 FROM session WHERE id = $2) ${ENDED}`;
/** Read committed, after LOCK_USER, as END_BEYOND_LIMIT. */
const REFUSE_BEYOND_LIMIT = `DELETE FROM session WHERE id = $2 AND (
	SELECT count(*) FROM session
	WHERE user_id = $1 AND id <> $2 AND expires_at >= $3 AND (absolute_expires_at IS NULL OR absolute_expires_at > $3)
) >= $4 ${ENDED}`;
const END_OWN = `DELETE FROM session
	WHERE id = $1 AND user_id = $2 AND expires_at >= $3 AND (absolute_expires_at IS NULL OR absolute_expires_at > $3)
	RETURNING *`;
const USER_BY_EMAIL = 'SELECT id, email FROM "user" WHERE email = $1';
const ADDRESS_BY_ID = 'SELECT id, email FROM "user" WHERE id = $1';
const CHANGE_EMAIL = 'UPDATE "user" SET email = $1, email_verified = true, updated_at = $2 WHERE id = $3';
/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';
const DELETE_USER = 'DELETE FROM "user" WHERE id = $1';
const EVENTS_PAGE = 'SELECT * FROM security_event WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2 OFFSET $3';
const EVENTS_TOTAL = 'SELECT count(*) FROM security_event WHERE user_id = $1';
const HIT_WINDOW = `
	INSERT INTO rate_limit_window (key, count, resets_at) VALUES ($1, 1, $2)
	ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN rate_limit_window.resets_at <= $3 THEN 1 ELSE rate_limit_window.count + 1 END,
		resets_at = CASE WHEN rate_limit_window.resets_at <= $3 THEN excluded.resets_at ELSE rate_limit_window.resets_at END
	RETURNING count, resets_at`;
const DELETE_CODES_OF = 'DELETE FROM verification WHERE identifier = $1';
const INSERT_CODE = `INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $5)`;
const CODE_OF = 'SELECT id, value FROM verification WHERE identifier = $1 ORDER BY created_at DESC LIMIT 1';
const UPDATE_CODE = 'UPDATE verification SET value = $1, updated_at = $2 WHERE id = $3 AND value = $4';
const SPEND_CODE = 'DELETE FROM verification WHERE id = $1 AND value = $2';
const PURGE_SESSIONS = 'DELETE FROM session WHERE id IN (SELECT id FROM session WHERE expires_at < $1 LIMIT $2)';
const PURGE_CODES = 'DELETE FROM verification WHERE expires_at < $1';
const PURGE_WINDOWS = 'DELETE FROM rate_limit_window WHERE resets_at < $1';
const PURGE_AUTH_LIMITS = 'DELETE FROM rate_limit WHERE last_request < $1';
/** The first ending of a token is kept: a later one finds the hash taken and writes nothing. */
const RECORD_ENDINGS = `INSERT INTO session_ending (token_hash, reason, ended_at, expires_at)
	SELECT hash, $2, $3, $4 FROM unnest($1::text[]) AS hash
	ON CONFLICT (token_hash) DO NOTHING`;
const ENDING_OF = `SELECT reason, (extract(epoch from ended_at) * 1000)::float8 AS ended_at
	FROM session_ending WHERE token_hash = $1 AND expires_at > $2`;
const PURGE_ENDINGS = 'DELETE FROM session_ending WHERE expires_at < $1';
const ACQUIRE_LEASE = `
	INSERT INTO job_lease (name, holder, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE job_lease.expires_at < $4 OR job_lease.holder = excluded.holder
	RETURNING holder`;
const RELEASE_LEASE = 'DELETE FROM job_lease WHERE name = $1 AND holder = $2';

const DAY_MS = 24 * 3600 * 1000;

/** Named statements: each pooled connection parses and plans them once. */
const named = (name: string, text: string) => ({ name: `latchkey_${name}`, text });

/** Thrown inside the transaction to roll the event back when another request won the row. */
class AlreadyChanged extends Error {}

/**
 * The driver's own failures (no answer within the query timeout, the connection lost) carry no
 * SQLSTATE and leave the connection unusable: a ROLLBACK on it would only wait out the timeout
 * again, and the server rolls back the transaction of a connection that closes.
 */
function connectionUnusable(error: unknown): error is Error {
	return (
		error instanceof Error &&
		(error as { code?: unknown }).code === undefined &&
		postgresFaultOf(undefined, error.message) !== null
	);
}

/** Runs `work` in one transaction on one pooled connection. */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	let broken: Error | undefined;
	try {
		await client.query('BEGIN');
		const result = await work(client);
		await client.query('COMMIT');
		return result;
	} catch (error) {
		if (connectionUnusable(error)) broken = error;
		else await client.query('ROLLBACK').catch((failed: Error) => (broken = failed));
		throw error;
	} finally {
		// A connection that could not even roll back is not given to another request.
		client.release(broken);
	}
}

/** The storage port on a PostgreSQL pool: every statement is a round trip that leaves the event loop free. */
export function postgresStorage(
	database: PostgresDatabase,
	options: StorageOptions = {}
): Omit<Storage, 'classifyFault'> {
	const pool = database.client;
	const { batchLoader = true } = options.performance ?? {};
	const find = named('sessions_by_tokens_json', SESSIONS_BY_TOKENS);
	/** The sessions of these tokens with their users, by token: one round trip for a turn's lookups. */
	const findByTokens = async (tokens: string[]) => {
		const result = await pool.query<[string]>({ ...find, values: [tokens], rowMode: 'array' });
		const found = result.rows.map(([json]) => readSessionRow(JSON.parse(json) as unknown[]));
		return new Map(found.map((stored) => [stored.session.token, stored]));
	};
	const findOne = batchLoader
		? createBatchLoader(findByTokens)
		: async (token: string) => (await findByTokens([token])).get(token);
	const rowsOf = async (sql: string, values: unknown[]) => (await pool.query(sql, values)).rows;
	const ended = async (sql: string, values: unknown[]) => (await pool.query<EndedSession>(sql, values)).rows;
	const changed = async (sql: string, values: unknown[]) => (await pool.query(sql, values)).rowCount ?? 0;
	const wholeRows = async <T>(sql: string, values: unknown[], table: typeof session | typeof securityEvent) => {
		const result = await pool.query<Row>({ text: sql, values, rowMode: 'array' });
		const read = rowReader<T>(
			table,
			result.fields.map((field) => field.name)
		);
		return result.rows.map((row) => read(row));
	};

	return {
		engine: 'postgres',
		description: `PostgreSQL at ${redactCredentials(pool.options.connectionString ?? '')}`,
		betterAuth: { db: database.db, provider: 'pg', schema: database.schema },
		runsOnEventLoop: false,
		sessions: {
			findByToken: async (token) => (await findOne(token)) ?? null,
			async extend(sessionId, expiresAt, refreshedAt, seenRefreshAt) {
				const result = await pool.query({
					...named('session_extend', EXTEND),
					values: [expiresAt, refreshedAt, sessionId, seenRefreshAt]
				});
				return result.rowCount === 1;
			},
			async recordNetwork(event, change) {
				// A concurrent transaction on the same row waits for it, then finds it changed.
				try {
					await inTransaction(pool, async (client) => {
						await client.query(INSERT_EVENT, securityEventValues(event));
						const written = await client.query(SET_NETWORKS, [change.networks, change.sessionId, change.seen]);
						if (written.rowCount !== 1) throw new AlreadyChanged();
					});
					return true;
				} catch (error) {
					if (error instanceof AlreadyChanged) return false;
					throw error;
				}
			},
			bindDevice: async (sessionId, deviceKey, boundAt) =>
				(await changed(BIND_DEVICE, [deviceKey, boundAt, sessionId])) === 1,
			listActiveByUser: (userId, now) => wholeRows<SessionRecord>(ACTIVE_BY_USER, [userId, now], session),
			async countActiveByPolicy(now) {
				const rows = (await rowsOf(COUNT_BY_POLICY, [now])) as Array<{ policy: string; sessions: string }>;
				return rows.map(({ policy, sessions }) => ({ policy, sessions: Number(sessions) }));
			},
			endByTokens: (tokens) => ended(END_BY_TOKENS, [tokens]),
			endById: async (sessionId) => (await ended(END_BY_ID, [sessionId]))[0] ?? null,
			endByUser: (userId) => ended(END_BY_USER, [userId]),
			endOthers: (userId, keptSessionId) => ended(END_OTHERS, [userId, keptSessionId]),
			endBeyondLimit: (userId, keptSessionId, limit, now) =>
				inTransaction(pool, async (client) => {
					await client.query(LOCK_USER, [userId]);
					const { rows } = await client.query<EndedSession>(END_BEYOND_LIMIT, [userId, keptSessionId, now, limit - 1]);
					return rows;
				}),
			refuseBeyondLimit: (userId, newSessionId, limit, now) =>
				inTransaction(pool, async (client) => {
					await client.query(LOCK_USER, [userId]);
					const { rows } = await client.query<EndedSession>(REFUSE_BEYOND_LIMIT, [userId, newSessionId, now, limit]);
					return rows[0] ?? null;
				}),
			endOwn: async (userId, sessionId, now) =>
				(await wholeRows<SessionRecord>(END_OWN, [sessionId, userId, now], session))[0] ?? null,
			deleteUser: (userId) =>
				inTransaction(pool, async (client) => {
					const { rows } = await client.query<EndedSession>(END_BY_USER, [userId]);
					await client.query(DELETE_USER, [userId]);
					return rows;
				})
		},
		users: {
			async findByEmail(email) {
				return ((await rowsOf(USER_BY_EMAIL, [email]))[0] as { id: string; email: string } | undefined) ?? null;
			},
			async findById(userId) {
				return ((await rowsOf(ADDRESS_BY_ID, [userId]))[0] as { id: string; email: string } | undefined) ?? null;
			},
			async changeEmail(userId, email, now): Promise<EmailChange> {
				try {
					return (await changed(CHANGE_EMAIL, [email, now, userId])) === 1 ? 'changed' : 'no-user';
				} catch (error) {
					if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) return 'taken';
					throw error;
				}
			}
		},
		securityEvents: {
			record: async (event) => void (await pool.query(INSERT_EVENT, securityEventValues(event))),
			async page(userId, limit, offset) {
				const [rows, totals] = await Promise.all([
					wholeRows<SecurityEventRow>(EVENTS_PAGE, [userId, limit, offset], securityEvent),
					rowsOf(EVENTS_TOTAL, [userId])
				]);
				return { rows, total: Number((totals[0] as { count: string } | undefined)?.count ?? 0) };
			}
		},
		rateLimits: {
			async hit(key, windowMs, now) {
				const result = await pool.query<[number, string]>({
					...named('rate_limit', HIT_WINDOW),
					values: [key, now + windowMs, now],
					rowMode: 'array'
				});
				const [count, resetsAt] = result.rows[0]!;
				return { count: Number(count), resetsAt: Number(resetsAt) };
			}
		},
		codes: {
			replace: (code, now) =>
				inTransaction(pool, async (client) => {
					await client.query(DELETE_CODES_OF, [code.holder]);
					await client.query(INSERT_CODE, [code.id, code.holder, code.value, code.expiresAt, now]);
				}),
			async find(holder) {
				return ((await rowsOf(CODE_OF, [holder]))[0] as { id: string; value: string } | undefined) ?? null;
			},
			update: async (id, seen, value, now) => (await changed(UPDATE_CODE, [value, now, id, seen])) === 1,
			spend: async (id, seen) => (await changed(SPEND_CODE, [id, seen])) === 1
		},
		endings: {
			async record(tokenHashes, reason, endedAt, expiresAt) {
				if (tokenHashes.length > 0) await changed(RECORD_ENDINGS, [tokenHashes, reason, endedAt, expiresAt]);
			},
			async find(tokenHash, now) {
				const [row] = (await rowsOf(ENDING_OF, [tokenHash, now])) as Array<{ reason: string; ended_at: number }>;
				return row ? { reason: row.reason, endedAt: new Date(row.ended_at) } : null;
			}
		},
		purge: {
			expiredSessions: (now, limit) => changed(PURGE_SESSIONS, [new Date(now), limit]),
			expiredOther: async (now) =>
				(await changed(PURGE_CODES, [new Date(now)])) +
				(await changed(PURGE_ENDINGS, [new Date(now)])) +
				(await changed(PURGE_WINDOWS, [now])) +
				(await changed(PURGE_AUTH_LIMITS, [now - DAY_MS])),
			async acquireLease(name, holder, ttlMs, now) {
				const rows = (await rowsOf(ACQUIRE_LEASE, [name, holder, now + ttlMs, now])) as Array<{ holder: string }>;
				return rows[0]?.holder === holder;
			},
			releaseLease: async (name, holder) => void (await changed(RELEASE_LEASE, [name, holder]))
		},
		async migrate(root = process.cwd()) {
			const lock = await pool.connect();
			try {
				await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
				await migrate(database.db, { migrationsFolder: resolve(root, MIGRATIONS_DIR) });
			} finally {
				await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
				lock.release();
			}
		},
		async ping() {
			await pool.query('SELECT 1');
		},
		close: () => database.close()
	};
}
