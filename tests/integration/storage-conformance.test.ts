import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
	connectionOf,
	openStorage,
	type SecurityEventRow,
	type Storage,
	type StorageOptions
} from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';
import { runStatement, selectRows, sessionRows, tableNames } from './support/rows';
import { readOnlyFile } from './support/sqlite-faults';

/**
 * What every engine's adapter (src/lib/server/db/<engine>/) must do behind the storage port.
 * Adding an engine: one entry in ENGINES — a fresh database of its own per run, dropped after,
 * and the faults a database of its kind really has (a lock, a timeout, a lost connection),
 * each with the name its faults.ts gives it — then make every test pass.
 */
interface EngineCase {
	name: string;
	/** A fresh, empty database. */
	scratch(): Promise<ScratchDatabase>;
	/** How many migrations the database records as applied, in the migrator's own table. */
	appliedMigrations(storage: Storage): Promise<number>;
	/** Faults provoked on this engine, each named by its faults.ts. */
	faults: FaultCase[];
	/** How its faults.ts names a call on a storage already closed (a request during shutdown). */
	closed: RegExp;
}

interface FaultCase {
	name: string;
	/** How the engine's faults.ts names what the storage threw. */
	named: RegExp;
	/** Opens a storage on `scratch` and makes one of its calls fail with the fault. */
	provoke(scratch: ScratchDatabase): Promise<ProvokedFault>;
}

interface ProvokedFault {
	/** The storage the fault struck: once lifted, it serves again. */
	storage: Storage;
	/** What its call threw. */
	error: unknown;
	/** Ends the fault. */
	lift(): Promise<void>;
}

/** Epoch milliseconds that are not a whole second, so a lost fraction shows: the `now` of the tests that pass one. */
const T0 = Date.UTC(2026, 0, 15, 12, 30, 45, 123);
const WINDOW_MS = 60_000;

/** What `call` rejects with; fails the test when it resolves. */
function rejectionOf(call: Promise<unknown>): Promise<unknown> {
	return call.then(
		() => {
			throw new Error('the call succeeded where the fault was to make it fail');
		},
		(error: unknown) => error
	);
}

/** Holds a lock that a write to the rate-limit window `key` waits on; returns what releases it. */
type HoldLock = (scratch: ScratchDatabase, key: string) => Promise<() => Promise<void>>;

/** Another SQLite connection holds the write lock (a CLI run, a backup). */
const holdSqliteWriteLock: HoldLock = async (scratch) => {
	const holder = new Sqlite(sqliteFile(scratch));
	holder.exec('BEGIN IMMEDIATE');
	return async () => {
		holder.exec('ROLLBACK');
		holder.close();
	};
};

/** Another PostgreSQL client holds the window's row lock in an open transaction. */
const holdPostgresRowLock: HoldLock = async (scratch, key) => {
	const holder = new pg.Client({ connectionString: serverUrl(scratch) });
	await holder.connect();
	await holder.query('BEGIN');
	await holder.query('SELECT * FROM rate_limit_window WHERE key = $1 FOR UPDATE', [key]);
	return async () => {
		await holder.query('ROLLBACK');
		await holder.end();
	};
};

/** Another MySQL connection holds the window's row lock in an open transaction. */
const holdMysqlRowLock: HoldLock = async (scratch, key) => {
	const holder = await mysql.createConnection({ uri: serverUrl(scratch) });
	await holder.beginTransaction();
	await holder.query('SELECT * FROM rate_limit_window WHERE `key` = ? FOR UPDATE', [key]);
	return async () => {
		await holder.rollback();
		await holder.end();
	};
};

/**
 * A storage opened with `options` counts a hit against a window, then `hold` locks it and the
 * storage's next hit waits on the lock; `end` (when given) waits for that and breaks the wait.
 */
async function hitBehindLock(
	scratch: ScratchDatabase,
	options: StorageOptions,
	hold: HoldLock,
	end?: (scratch: ScratchDatabase) => Promise<void>
): Promise<ProvokedFault> {
	const storage = openStorage(scratch.target, options);
	const key = `fault:${randomUUID()}`;
	await storage.rateLimits.hit(key, WINDOW_MS, T0);
	const release = await hold(scratch, key);
	try {
		const waiting = rejectionOf(storage.rateLimits.hit(key, WINDOW_MS, T0));
		await end?.(scratch);
		return { storage, error: await waiting, lift: release };
	} catch (error) {
		await release();
		await storage.close();
		throw error;
	}
}

/** A storage opened with `options` runs `statement` on its own connection, and it fails. */
async function failingStatement(
	scratch: ScratchDatabase,
	options: StorageOptions,
	statement: string
): Promise<ProvokedFault> {
	const storage = openStorage(scratch.target, options);
	try {
		return { storage, error: await rejectionOf(selectRows(storage, statement, [])), lift: async () => undefined };
	} catch (error) {
		await storage.close();
		throw error;
	}
}

/** How long a statement may take to start waiting on a lock: polled, not slept. */
const WAITER_WAIT = { timeout: 5000, interval: 10 };

/** Ends the PostgreSQL connection that waits on a lock, as a server shutting down or an operator does. */
async function terminatePostgresWaiter(scratch: ScratchDatabase): Promise<void> {
	const admin = new pg.Client({ connectionString: serverUrl(scratch) });
	await admin.connect();
	try {
		const pid = await vi.waitFor(async () => {
			const { rows } = await admin.query<{ pid: number }>(
				"SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
			);
			if (rows.length !== 1) throw new Error(`${rows.length} statements wait on a lock, one was expected`);
			return rows[0]!.pid;
		}, WAITER_WAIT);
		await admin.query('SELECT pg_terminate_backend($1)', [pid]);
	} finally {
		await admin.end();
	}
}

/** Kills the MySQL connection whose hit waits on the window's lock, as an operator or a server going down does. */
async function killMysqlWaiter(scratch: ScratchDatabase): Promise<void> {
	const admin = await mysql.createConnection({ uri: serverUrl(scratch) });
	try {
		const id = await vi.waitFor(async () => {
			const [rows] = await admin.query<RowDataPacket[]>(
				`SELECT ID AS id FROM information_schema.PROCESSLIST
				WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%INSERT INTO rate_limit_window%'`
			);
			if (rows.length !== 1) throw new Error(`${rows.length} hits wait on the lock, one was expected`);
			return Number(rows[0]!.id);
		}, WAITER_WAIT);
		await admin.query(`KILL CONNECTION ${id}`);
	} finally {
		await admin.end();
	}
}

/**
 * The scratch database reached through connections that start with `setting` (`name=value`, no
 * spaces): a setting of these connections alone, which nothing else on the server shares.
 */
function withPostgresSetting(scratch: ScratchDatabase, setting: string): ScratchDatabase {
	const url = new URL(serverUrl(scratch));
	url.searchParams.set('options', `-c ${setting}`);
	return { ...scratch, target: { dialect: 'postgres', url: url.toString() } };
}

/**
 * A storage whose transactions are SERIALIZABLE (a server whose default_transaction_isolation
 * says so) counts a hit that waits on another transaction's change to the same window; the other
 * commits once the hit is seen waiting, and the hit, whose snapshot predates that change, cannot
 * be serialized after it.
 */
async function hitOvertakenBySerializable(scratch: ScratchDatabase): Promise<ProvokedFault> {
	const holder = new pg.Client({ connectionString: serverUrl(scratch) });
	const changeWindow: HoldLock = async (_, key) => {
		await holder.connect();
		await holder.query('BEGIN');
		await holder.query('UPDATE rate_limit_window SET count = count + 1 WHERE key = $1', [key]);
		return () => holder.end();
	};
	const commit = async () => {
		await waitForPostgresLockWaits(scratch, 1);
		await holder.query('COMMIT');
	};
	return hitBehindLock(
		withPostgresSetting(scratch, 'default_transaction_isolation=serializable'),
		{ statementTimeoutMs: 10_000 },
		changeWindow,
		commit
	);
}

/**
 * The storage's network change and another transaction deadlock: the other holds the session's
 * row; the storage's transaction writes its security event, then waits for the session's row;
 * the other then waits for the event's id, which the storage's uncommitted insert holds. Each
 * step starts once the one before is seen (a lock waited on is polled for, not slept on). The
 * server checks a waiting transaction for a deadlock once, `deadlock_timeout` after it starts to
 * wait, and cancels the one that finds it. The other's check is put off past the test, so the
 * one to find it is the storage's, whichever check the server would have run first: the other
 * joins the cycle as soon as the poll sees the storage wait, long before the storage's check.
 */
async function deadlockedNetworkChange(scratch: ScratchDatabase): Promise<ProvokedFault> {
	const storage = openStorage(scratch.target, { statementTimeoutMs: 10_000 });
	const other = new pg.Client({ connectionString: serverUrl(scratch) });
	await other.connect();
	const release = async () => {
		await other.query('ROLLBACK');
		await other.end();
	};
	try {
		const userId = `user-deadlock-${randomUUID()}`;
		const sessionId = randomUUID();
		const now = new Date();
		await other.query(
			`INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at) VALUES ($1, $1, $2, true, $3, $3)`,
			[userId, `${userId}@example.com`, now]
		);
		await other.query(
			`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, policy, idle_seconds,
				refresh_seconds, known_networks, persistent)
			VALUES ($1, $2, $3, $4, $5, $5, 'standard', 604800, 86400, '', true)`,
			[sessionId, userId, randomUUID(), new Date(now.getTime() + 3_600_000), now]
		);
		await other.query(`SET deadlock_timeout = '1h'`);
		await other.query('BEGIN');
		await other.query('SELECT 1 FROM session WHERE id = $1 FOR NO KEY UPDATE', [sessionId]);
		const eventId = randomUUID();
		const change = { sessionId, networks: '203.0.113.0/24', seen: '' };
		const waiting = rejectionOf(
			storage.sessions.recordNetwork(
				{
					id: eventId,
					userId,
					sessionId,
					type: 'IP_CHANGE',
					createdAt: now,
					ipAddress: '203.0.113.7',
					userAgent: 'Conformance/1.0',
					detail: '{}'
				},
				change
			)
		);
		await waitForPostgresLockWaits(scratch, 1);
		const crossing = other
			.query(
				`INSERT INTO security_event (id, user_id, session_id, type, created_at, detail)
				VALUES ($1, $2, $3, 'IP_CHANGE', $4, '{}')`,
				[eventId, userId, sessionId, now]
			)
			.then(
				() => null,
				(failed: unknown) => failed
			);
		const error = await waiting;
		// The storage's transaction rolled back: the other's insert of the same id goes through.
		const crossed = await crossing;
		if (crossed) throw crossed;
		return { storage, error, lift: release };
	} catch (error) {
		await release();
		await storage.close();
		throw error;
	}
}

/** Waits until `count` statements on the scratch database wait for a lock. */
async function waitForPostgresLockWaits(scratch: ScratchDatabase, count: number): Promise<void> {
	const admin = new pg.Client({ connectionString: serverUrl(scratch) });
	await admin.connect();
	try {
		await vi.waitFor(async () => {
			const { rows } = await admin.query<{ n: string }>(
				"SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
			);
			if (Number(rows[0]!.n) !== count) throw new Error(`${rows[0]!.n} statements wait on a lock, ${count} expected`);
		}, WAITER_WAIT);
	} finally {
		await admin.end();
	}
}

function sqliteFile(scratch: ScratchDatabase): string {
	if (scratch.target.dialect !== 'sqlite') throw new Error('a SQLite target was expected');
	return scratch.target.file;
}

function serverUrl(scratch: ScratchDatabase): string {
	if (scratch.target.dialect === 'sqlite') throw new Error('a server target was expected');
	return scratch.target.url;
}

const SQLITE_LOCKED = /^the SQLite database is locked by another connection \(SQLITE_BUSY: database is locked\)$/;
const POSTGRES_TIMEOUT =
	/^PostgreSQL cannot serve requests right now \(57014: canceling statement due to statement timeout\)$/;
const MYSQL_TIMEOUT = /^a MySQL statement ran past the statement timeout \(.*\(max_statement_time exceeded\)\)$/;

const ENGINES: EngineCase[] = [
	{
		name: 'sqlite',
		scratch: () => createScratchDatabase('sqlite'),
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'sqlite') throw new Error('a SQLite storage was expected');
			return (database.client.prepare('SELECT count(*) AS n FROM "__drizzle_migrations"').get() as { n: number }).n;
		},
		faults: [
			{
				name: 'a write past its lock wait while another connection holds the write lock',
				named: SQLITE_LOCKED,
				provoke: (scratch) => hitBehindLock(scratch, { lockWaitMs: 50 }, holdSqliteWriteLock)
			},
			{
				// SQLite has no statement timeout: it bounds the lock wait instead.
				name: 'a write past the statement timeout while another connection holds the write lock',
				named: SQLITE_LOCKED,
				provoke: (scratch) => hitBehindLock(scratch, { statementTimeoutMs: 50 }, holdSqliteWriteLock)
			},
			{
				name: 'a write to a database file that has become read-only',
				named: /^the SQLite database file could not be read or written \(SQLITE_IOERR/,
				async provoke(scratch) {
					const storage = openStorage(scratch.target);
					await storage.rateLimits.hit(`fault:${randomUUID()}`, WINDOW_MS, T0);
					const lift = readOnlyFile.apply(sqliteFile(scratch));
					try {
						const error = await rejectionOf(storage.rateLimits.hit(`fault:${randomUUID()}`, WINDOW_MS, T0));
						return { storage, error, lift: async () => lift() };
					} catch (error) {
						lift();
						await storage.close();
						throw error;
					}
				}
			}
		],
		closed: /^the SQLite connection is closed \(shutting down\) \(The database connection is not open\)$/
	},
	{
		name: 'postgres',
		scratch: () => createScratchDatabase('postgres'),
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'postgres') throw new Error('a PostgreSQL storage was expected');
			const result = await database.client.query<{ n: string }>(
				'SELECT count(*) AS n FROM drizzle."__drizzle_migrations"'
			);
			return Number(result.rows[0]!.n);
		},
		faults: [
			{
				name: 'a write waiting on a row lock past the statement timeout',
				named: POSTGRES_TIMEOUT,
				provoke: (scratch) => hitBehindLock(scratch, { statementTimeoutMs: 100 }, holdPostgresRowLock)
			},
			{
				name: 'a statement running past the statement timeout',
				named: POSTGRES_TIMEOUT,
				provoke: (scratch) => failingStatement(scratch, { statementTimeoutMs: 100 }, 'SELECT pg_sleep(10)')
			},
			{
				name: 'a write whose connection the server terminates',
				named:
					/^PostgreSQL cannot serve requests right now \(57P01: terminating connection due to administrator command\)$/,
				provoke: (scratch) =>
					hitBehindLock(scratch, { statementTimeoutMs: 10_000 }, holdPostgresRowLock, terminatePostgresWaiter)
			},
			{
				name: 'a write waiting on a row lock past the lock timeout of its connection',
				named: /^a PostgreSQL statement waited too long for a lock \(55P03: canceling statement due to lock timeout\)$/,
				provoke: (scratch) =>
					hitBehindLock(
						withPostgresSetting(scratch, 'lock_timeout=50ms'),
						{ statementTimeoutMs: 10_000 },
						holdPostgresRowLock
					)
			},
			{
				name: 'a network change caught in a deadlock with another transaction',
				named: /^a PostgreSQL statement was caught in a deadlock \(40P01: deadlock detected\)$/,
				provoke: deadlockedNetworkChange
			},
			{
				name: 'a serializable write that another transaction changed the row of first',
				named:
					/^a PostgreSQL transaction could not be serialized with a concurrent one \(40001: could not serialize access due to concurrent update\)$/,
				provoke: hitOvertakenBySerializable
			}
		],
		closed:
			/^the PostgreSQL connection pool is closed \(shutting down\) \(Cannot use a pool after calling end on the pool\)$/
	},
	{
		name: 'mysql',
		scratch: () => createScratchDatabase('mysql'),
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'mysql') throw new Error('a MySQL storage was expected');
			const [rows] = await database.client.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
			return Number(rows[0]!.n);
		},
		faults: [
			{
				// MariaDB cancels the waiting write at max_statement_time; MySQL, which has no such
				// limit for writes, at innodb_lock_wait_timeout.
				name: 'a write waiting on a row lock past the statement timeout',
				named: /^a MySQL statement (ran past the statement timeout|waited too long for a row lock) \(/,
				provoke: (scratch) => hitBehindLock(scratch, { statementTimeoutMs: 200 }, holdMysqlRowLock)
			},
			{
				name: 'a statement running past the statement timeout',
				named: MYSQL_TIMEOUT,
				provoke: (scratch) =>
					failingStatement(scratch, { statementTimeoutMs: 200 }, 'SELECT 1 FROM DUAL WHERE SLEEP(10) = 0')
			},
			{
				name: 'a write whose connection the server kills',
				named: /^the connection to MySQL was lost \(/,
				provoke: (scratch) => hitBehindLock(scratch, { statementTimeoutMs: 10_000 }, holdMysqlRowLock, killMysqlWaiter)
			}
		],
		closed: /^the MySQL connection pool is closed \(shutting down\) \(Pool is closed\.\)$/
	}
];

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

describe.each(ENGINES)('the storage port on $name', (engine) => {
	let scratch: ScratchDatabase;
	let storage: Storage;
	/** A second instance on the same database: on SQLite a second connection to the file. */
	let other: Storage;
	let people = 0;

	beforeAll(async () => {
		scratch = await engine.scratch();
		storage = openStorage(scratch.target);
		await storage.migrate();
		other = openStorage(scratch.target);
	});

	afterAll(async () => {
		await other?.close();
		await storage?.close();
		await scratch?.drop();
	});

	/** A user row, written below the port (Better Auth writes them in the app). */
	async function newUser(): Promise<string> {
		const id = `user-${engine.name}-${++people}`;
		const now = new Date();
		await runStatement(
			storage,
			'INSERT INTO "user" (id, name, email, email_verified, image, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
			[id, `Person ${people}`, `${id}@example.com`, true, null, now, now]
		);
		return id;
	}

	interface NewSession {
		expiresAt?: Date;
		updatedAt?: Date;
		absoluteExpiresAt?: Date | null;
		policy?: string;
		knownNetworks?: string;
		persistent?: boolean;
	}

	/** A session row as the app creates one; returns its id and token. */
	async function newSession(userId: string, row: NewSession = {}): Promise<{ id: string; token: string }> {
		const id = randomUUID();
		const token = randomUUID();
		const now = new Date();
		await runStatement(
			storage,
			`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent, policy,
				idle_seconds, refresh_seconds, absolute_expires_at, known_networks, persistent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[
				id,
				userId,
				token,
				row.expiresAt ?? new Date(now.getTime() + HOUR_MS),
				now,
				row.updatedAt ?? now,
				'203.0.113.7',
				'Conformance/1.0',
				row.policy ?? 'standard',
				604800,
				86400,
				row.absoluteExpiresAt === undefined ? new Date(now.getTime() + 30 * 24 * HOUR_MS) : row.absoluteExpiresAt,
				row.knownNetworks ?? '',
				row.persistent ?? true
			]
		);
		return { id, token };
	}

	function event(userId: string, sessionId: string | null, at = new Date()): SecurityEventRow {
		return {
			id: randomUUID(),
			userId,
			sessionId,
			type: 'SIGN_IN',
			createdAt: at,
			ipAddress: '203.0.113.7',
			userAgent: 'Conformance/1.0',
			detail: JSON.stringify({ method: 'email-otp' })
		};
	}

	const idsOf = (sessions: Array<{ id: string }>) => sessions.map((session) => session.id).sort();

	const code = (holder: string, value: string, expiresAt = new Date(Date.now() + 300_000)) => ({
		id: randomUUID(),
		holder,
		value,
		expiresAt
	});

	/** 1, 2, …, n. */
	const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

	describe('sessions', () => {
		it('finds a session and its user by token, typed as the schema says; an unknown token finds nothing', async () => {
			const userId = await newUser();
			const { id, token } = await newSession(userId, { persistent: false, absoluteExpiresAt: null });

			const found = await storage.sessions.findByToken(token);

			expect(found?.session).toMatchObject({ id, token, userId, policy: 'standard', knownNetworks: '' });
			expect(found?.session.expiresAt).toBeInstanceOf(Date);
			expect(found?.session.updatedAt).toBeInstanceOf(Date);
			expect(found?.session.absoluteExpiresAt).toBeNull();
			expect(found?.session.persistent).toBe(false);
			expect(found?.session.idleSeconds).toBe(604800);
			expect(found?.user).toMatchObject({ id: userId, email: `${userId}@example.com`, emailVerified: true });
			expect(found?.user.image).toBeNull();
			expect(found?.user.createdAt).toBeInstanceOf(Date);
			expect(await storage.sessions.findByToken('no-such-token')).toBeNull();
		});

		it('reads back every column of the session and its user as written, each into its own field', async () => {
			// Every column holds a value no other column holds, so a lookup that read one column into
			// another field, or left one out, differs from what was written.
			const at = (offset: number) => new Date(Date.UTC(2030, 0, 1) + offset * 1001);
			const userId = `user-${engine.name}-all-columns`;
			await runStatement(
				storage,
				'INSERT INTO "user" (id, name, email, email_verified, image, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
				[userId, 'All Columns', 'all-columns@example.com', true, 'https://example.com/a.png', at(1), at(2)]
			);
			const user = {
				id: userId,
				name: 'All Columns',
				email: 'all-columns@example.com',
				emailVerified: true,
				image: 'https://example.com/a.png',
				createdAt: at(1),
				updatedAt: at(2)
			};
			const session = {
				id: randomUUID(),
				userId,
				token: randomUUID(),
				expiresAt: at(3),
				createdAt: at(4),
				updatedAt: at(5),
				ipAddress: '198.51.100.23',
				userAgent: 'AllColumns/2.0',
				policy: 'remember-me',
				idleSeconds: 1234,
				refreshSeconds: 567,
				absoluteExpiresAt: at(6),
				knownNetworks: '198.51.100.0/24',
				persistent: true,
				deviceKey: '{"alg":"ES256","jwk":{"kty":"EC"}}',
				deviceBoundAt: at(7)
			};
			await runStatement(
				storage,
				`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent, policy,
					idle_seconds, refresh_seconds, absolute_expires_at, known_networks, persistent, device_key, device_bound_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				Object.values(session)
			);

			expect(await storage.sessions.findByToken(session.token)).toStrictEqual({ session, user });
		});

		it('binds a session to a device key once: never twice, never a session that is gone', async () => {
			const userId = await newUser();
			const { id, token } = await newSession(userId);
			const unbound = (await storage.sessions.findByToken(token))!.session;
			expect([unbound.deviceKey, unbound.deviceBoundAt]).toEqual([null, null]);
			const boundAt = new Date(Date.UTC(2031, 5, 6, 7, 8, 9, 123));
			expect(await storage.sessions.bindDevice(id, '{"alg":"ES256"}', boundAt)).toBe(true);
			expect(await storage.sessions.bindDevice(id, '{"alg":"RS256"}', new Date())).toBe(false);
			const bound = (await storage.sessions.findByToken(token))!.session;
			expect([bound.deviceKey, bound.deviceBoundAt]).toEqual(['{"alg":"ES256"}', boundAt]);
			expect((await storage.sessions.listActiveByUser(userId, new Date()))[0]).toMatchObject({
				deviceKey: '{"alg":"ES256"}',
				deviceBoundAt: boundAt
			});
			await storage.sessions.endById(id);
			expect(await storage.sessions.bindDevice(id, '{"alg":"ES256"}', boundAt)).toBe(false);
		});

		it('lets one of concurrent bindings of a session win', async () => {
			const userId = await newUser();
			const { id } = await newSession(userId);
			const won = await Promise.all(
				Array.from({ length: 6 }, (_, n) => storage.sessions.bindDevice(id, `{"n":${n}}`, new Date()))
			);
			expect(won.filter(Boolean)).toHaveLength(1);
		});

		it('answers lookups made at the same moment each with its own session', async () => {
			const [first, second] = [await newSession(await newUser()), await newSession(await newUser())];
			const found = await Promise.all(
				[first.token, 'no-such-token', second.token, first.token].map((token) => storage.sessions.findByToken(token))
			);
			expect(found.map((one) => one?.session.id ?? null)).toEqual([first.id, null, second.id, first.id]);
		});

		it('extends a session only while it holds the refresh time the caller saw (compare-and-set)', async () => {
			const seen = new Date(Date.now() - 2 * HOUR_MS);
			const { id, token } = await newSession(await newUser(), { updatedAt: seen });
			const expiresAt = new Date(Date.now() + 5 * HOUR_MS);
			const refreshedAt = new Date();

			expect(await storage.sessions.extend(id, expiresAt, refreshedAt, seen)).toBe(true);
			expect(await storage.sessions.extend(id, new Date(Date.now() + 9 * HOUR_MS), new Date(), seen)).toBe(false);

			const { session } = (await storage.sessions.findByToken(token))!;
			expect(session.expiresAt.getTime()).toBe(expiresAt.getTime());
			expect(session.updatedAt.getTime()).toBe(refreshedAt.getTime());
		});

		it('records a new network with its event once, and neither when another request changed the networks first', async () => {
			const userId = await newUser();
			const { id, token } = await newSession(userId, { knownNetworks: '198.51.100.0/24' });
			const change = { sessionId: id, networks: '198.51.100.0/24,192.0.2.0/24', seen: '198.51.100.0/24' };

			expect(await storage.sessions.recordNetwork(event(userId, id), change)).toBe(true);
			expect(await storage.sessions.recordNetwork(event(userId, id), { ...change, networks: 'lost' })).toBe(false);

			expect((await storage.sessions.findByToken(token))?.session.knownNetworks).toBe(change.networks);
			expect((await storage.securityEvents.page(userId, 10, 0)).total).toBe(1);
		});

		it("lists a user's active sessions only: not expired, not past their absolute lifetime, not another user's", async () => {
			const userId = await newUser();
			const live = await newSession(userId);
			const lifelong = await newSession(userId, { absoluteExpiresAt: null });
			await newSession(userId, { expiresAt: new Date(Date.now() - 1000) });
			await newSession(userId, { absoluteExpiresAt: new Date(Date.now() - 1000) });
			await newSession(await newUser());

			const active = await storage.sessions.listActiveByUser(userId, new Date());

			expect(idsOf(active)).toEqual(idsOf([live, lifelong]));
			expect(active.every((session) => session.userId === userId && session.expiresAt instanceof Date)).toBe(true);
		});

		it('lists a session as active up to and including the instant of its expiresAt, as the validator accepts it', async () => {
			const userId = await newUser();
			const { id } = await newSession(userId, { expiresAt: new Date(T0), absoluteExpiresAt: null });

			expect(idsOf(await storage.sessions.listActiveByUser(userId, new Date(T0 - 1)))).toEqual([id]);
			expect(idsOf(await storage.sessions.listActiveByUser(userId, new Date(T0)))).toEqual([id]);
			expect(await storage.sessions.listActiveByUser(userId, new Date(T0 + 1))).toEqual([]);
		});

		it('lists a session as active only before the instant of its absolute lifetime, as the validator refuses it then', async () => {
			const userId = await newUser();
			const { id } = await newSession(userId, {
				expiresAt: new Date(T0 + HOUR_MS),
				absoluteExpiresAt: new Date(T0)
			});

			expect(idsOf(await storage.sessions.listActiveByUser(userId, new Date(T0 - 1)))).toEqual([id]);
			expect(await storage.sessions.listActiveByUser(userId, new Date(T0))).toEqual([]);
			expect(await storage.sessions.listActiveByUser(userId, new Date(T0 + 1))).toEqual([]);
		});

		it('counts active sessions by policy', async () => {
			const userId = await newUser();
			await newSession(userId, { policy: 'conformance-a' });
			await newSession(userId, { policy: 'conformance-a' });
			await newSession(userId, { policy: 'conformance-b' });
			await newSession(userId, { policy: 'conformance-b', expiresAt: new Date(Date.now() - 1000) });

			const counts = (await storage.sessions.countActiveByPolicy(new Date())).filter(({ policy }) =>
				policy.startsWith('conformance-')
			);
			expect(counts.sort((a, b) => a.policy.localeCompare(b.policy))).toEqual([
				{ policy: 'conformance-a', sessions: 2 },
				{ policy: 'conformance-b', sessions: 1 }
			]);
		});

		it('ends sessions by token, returning only those this call deleted', async () => {
			const userId = await newUser();
			const [one, two] = [await newSession(userId), await newSession(userId)];

			const ended = await storage.sessions.endByTokens([one.token, two.token, 'no-such-token']);

			expect(idsOf(ended)).toEqual(idsOf([one, two]));
			expect(ended.find((session) => session.id === one.id)).toEqual({ ...one, userId });
			expect(await storage.sessions.endByTokens([one.token])).toEqual([]);
			expect(await storage.sessions.findByToken(one.token)).toBeNull();
		});

		it('ends a session by id, once', async () => {
			const userId = await newUser();
			const session = await newSession(userId);
			expect(await storage.sessions.endById(session.id)).toEqual({ ...session, userId });
			expect(await storage.sessions.endById(session.id)).toBeNull();
		});

		it("ends a user's own active session by id, whole and once; never another user's, nor an ended one", async () => {
			const userId = await newUser();
			const strangerId = await newUser();
			const own = await newSession(userId, { policy: 'conformance-own' });
			const stranger = await newSession(strangerId);
			const expired = await newSession(userId, { expiresAt: new Date(Date.now() - 1000) });
			const pastLifetime = await newSession(userId, { absoluteExpiresAt: new Date(Date.now() - 1000) });
			const now = new Date();

			expect(await storage.sessions.endOwn(userId, stranger.id, now)).toBeNull();
			expect(await storage.sessions.endOwn(userId, expired.id, now)).toBeNull();
			expect(await storage.sessions.endOwn(userId, pastLifetime.id, now)).toBeNull();
			expect(await storage.sessions.endOwn(userId, 'no-such-id', now)).toBeNull();
			const ended = await storage.sessions.endOwn(userId, own.id, now);
			expect(ended).toMatchObject({
				...own,
				userId,
				policy: 'conformance-own',
				ipAddress: '203.0.113.7',
				userAgent: 'Conformance/1.0',
				persistent: true
			});
			expect(ended?.expiresAt).toBeInstanceOf(Date);
			expect(ended?.absoluteExpiresAt).toBeInstanceOf(Date);
			expect(await storage.sessions.endOwn(userId, own.id, now)).toBeNull();
			expect(await storage.sessions.findByToken(own.token)).toBeNull();
			expect(await storage.sessions.findByToken(stranger.token)).not.toBeNull();
			expect(await storage.sessions.findByToken(expired.token)).not.toBeNull();
		});

		it('lets one of many concurrent ends of the same own session return it', async () => {
			const userId = await newUser();
			const { id } = await newSession(userId);
			const ended = await Promise.all(Array.from({ length: 6 }, () => storage.sessions.endOwn(userId, id, new Date())));
			expect(ended.filter((row) => row !== null).map((row) => row!.id)).toEqual([id]);
		});

		it('finds a user by their exact email', async () => {
			const userId = await newUser();
			expect(await storage.users.findByEmail(`${userId}@example.com`)).toEqual({
				id: userId,
				email: `${userId}@example.com`
			});
			expect(await storage.users.findByEmail(`nobody-${userId}@example.com`)).toBeNull();
		});

		it('finds a user and their address by id', async () => {
			const userId = await newUser();
			expect(await storage.users.findById(userId)).toEqual({ id: userId, email: `${userId}@example.com` });
			expect(await storage.users.findById(`nobody-${userId}`)).toBeNull();
		});

		it("changes a user's email, marks it verified and moves updatedAt, and no other user's", async () => {
			const userId = await newUser();
			const bystander = await newUser();
			await runStatement(storage, 'UPDATE "user" SET email_verified = ? WHERE id = ?', [false, userId]);
			const now = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));
			const email = `moved-${userId}@example.com`;

			expect(await storage.users.changeEmail(userId, email, now)).toBe('changed');
			expect(await storage.users.findByEmail(email)).toEqual({ id: userId, email });
			expect(await storage.users.findByEmail(`${userId}@example.com`)).toBeNull();
			const [row] = await selectRows<{ email_verified: unknown; updated_at: unknown }>(
				storage,
				'SELECT email_verified, updated_at FROM "user" WHERE id = ?',
				[userId]
			);
			expect(Boolean(Number(row!.email_verified))).toBe(true);
			const updatedAt = row!.updated_at instanceof Date ? row!.updated_at : new Date(Number(row!.updated_at));
			expect(updatedAt.getTime()).toBe(now.getTime());
			expect(await storage.users.findByEmail(`${bystander}@example.com`)).toEqual({
				id: bystander,
				email: `${bystander}@example.com`
			});
		});

		it('refuses an email change to an address another user has, writing nothing', async () => {
			const userId = await newUser();
			const owner = await newUser();
			const taken = `${owner}@example.com`;

			expect(await storage.users.changeEmail(userId, taken, new Date())).toBe('taken');
			expect(await storage.users.findByEmail(taken)).toEqual({ id: owner, email: taken });
			expect(await storage.users.findByEmail(`${userId}@example.com`)).toEqual({
				id: userId,
				email: `${userId}@example.com`
			});
			expect(await storage.users.changeEmail(`nobody-${userId}`, `free-${userId}@example.com`, new Date())).toBe(
				'no-user'
			);
			expect(await storage.users.findByEmail(`free-${userId}@example.com`)).toBeNull();
		});

		it('lets one of two users changing to the same address at once have it', async () => {
			const [first, second] = [await newUser(), await newUser()];
			const email = `contested-${first}@example.com`;
			const outcomes = await Promise.all([
				storage.users.changeEmail(first, email, new Date()),
				storage.users.changeEmail(second, email, new Date())
			]);
			expect([...outcomes].sort()).toEqual(['changed', 'taken']);
			const winner = outcomes[0] === 'changed' ? first : second;
			expect(await storage.users.findByEmail(email)).toEqual({ id: winner, email });
		});

		it("ends every session of a user, or all but one, and never another user's", async () => {
			const userId = await newUser();
			const stranger = await newSession(await newUser());
			const [kept, other, third] = [await newSession(userId), await newSession(userId), await newSession(userId)];

			expect(idsOf(await storage.sessions.endOthers(userId, kept.id))).toEqual(idsOf([other, third]));
			expect(await storage.sessions.findByToken(kept.token)).not.toBeNull();
			expect(idsOf(await storage.sessions.endByUser(userId))).toEqual([kept.id]);
			expect(await storage.sessions.findByToken(stranger.token)).not.toBeNull();
		});

		it("keeps the kept session and the most recently active others up to a limit; never another user's", async () => {
			const userId = await newUser();
			const now = Date.now();
			const activeAt = (hoursAgo: number) => ({ updatedAt: new Date(now - hoursAgo * HOUR_MS) });
			const kept = await newSession(userId, activeAt(5));
			const [oldest, older, recent] = [
				await newSession(userId, activeAt(4)),
				await newSession(userId, activeAt(3)),
				await newSession(userId, activeAt(1))
			];
			const expired = await newSession(userId, { ...activeAt(6), expiresAt: new Date(now - 1000) });
			const stranger = await newSession(await newUser(), activeAt(9));

			const ended = await storage.sessions.endBeyondLimit(userId, kept.id, 2, new Date(now));

			expect(idsOf(ended)).toEqual(idsOf([oldest, older]));
			expect(ended.find((session) => session.id === oldest.id)).toEqual({ ...oldest, userId });
			for (const alive of [kept, recent, expired, stranger])
				expect(await storage.sessions.findByToken(alive.token)).not.toBeNull();
			expect(await storage.sessions.endBeyondLimit(userId, kept.id, 2, new Date(now))).toEqual([]);
			expect(idsOf(await storage.sessions.endBeyondLimit(userId, kept.id, 1, new Date(now)))).toEqual([recent.id]);
			expect(await storage.sessions.findByToken(kept.token)).not.toBeNull();
		});

		it('ends nothing for a kept session that has already ended', async () => {
			const userId = await newUser();
			const gone = await newSession(userId);
			const sessions = [await newSession(userId), await newSession(userId)];
			await storage.sessions.endById(gone.id);

			expect(await storage.sessions.endBeyondLimit(userId, gone.id, 1, new Date())).toEqual([]);
			for (const alive of sessions) expect(await storage.sessions.findByToken(alive.token)).not.toBeNull();
		});

		it('leaves exactly one session under a limit of 1 when ten sign-ins on two instances add and trim at once', async () => {
			const userId = await newUser();
			const instances = [storage, other];
			// Without the lock, two calls each find the other's new session and end it: none is left.
			const signIns = await Promise.all(
				upTo(10).map(async (n) => {
					const created = await newSession(userId);
					await instances[n % 2]!.sessions.endBeyondLimit(userId, created.id, 1, new Date());
					return created;
				})
			);

			const left = await storage.sessions.listActiveByUser(userId, new Date());
			console.log(`session limit on ${engine.name}: 10 sign-ins at once under a limit of 1 leave ${left.length}`);
			expect(left).toHaveLength(1);
			expect(signIns.map((created) => created.id)).toContain(left[0]!.id);
		});

		it('refuses a new session only when the user already has the limit of other active ones', async () => {
			const userId = await newUser();
			const now = Date.now();
			const [first, second] = [await newSession(userId), await newSession(userId)];
			await newSession(userId, { expiresAt: new Date(now - 1000) });
			await newSession(await newUser());
			const created = await newSession(userId);

			expect(await storage.sessions.refuseBeyondLimit(userId, created.id, 3, new Date(now))).toBeNull();
			expect(await storage.sessions.findByToken(created.token)).not.toBeNull();

			const refused = await storage.sessions.refuseBeyondLimit(userId, created.id, 2, new Date(now));
			expect(refused).toEqual({ id: created.id, token: created.token, userId });
			expect(await storage.sessions.findByToken(created.token)).toBeNull();
			for (const alive of [first, second]) expect(await storage.sessions.findByToken(alive.token)).not.toBeNull();
			expect(await storage.sessions.refuseBeyondLimit(userId, created.id, 2, new Date(now))).toBeNull();
		});

		it('keeps exactly the room left when ten new sessions on two instances are checked at once', async () => {
			const userId = await newUser();
			await newSession(userId);
			const created = await Promise.all(upTo(10).map(() => newSession(userId)));
			const instances = [storage, other];
			// Each check counts the others' new sessions: without the lock, checks running at once
			// all see ten or more and every one is refused; under it, they run one after another.
			const refused = await Promise.all(
				created.map((session, n) => instances[n % 2]!.sessions.refuseBeyondLimit(userId, session.id, 3, new Date()))
			);

			const left = await storage.sessions.listActiveByUser(userId, new Date());
			const kept = created.filter((_, n) => refused[n] === null).map((session) => session.id);
			console.log(`session limit (refuse) on ${engine.name}: 10 sign-ins at once with room for 2 keep ${kept.length}`);
			expect(left).toHaveLength(3);
			expect(kept).toHaveLength(2);
			for (const id of kept) expect(idsOf(left)).toContain(id);
		});

		it('deletes a user with their sessions, returning the sessions', async () => {
			const userId = await newUser();
			const sessions = [await newSession(userId), await newSession(userId)];

			expect(idsOf(await storage.sessions.deleteUser(userId))).toEqual(idsOf(sessions));
			expect((await sessionRows(storage)).some((row) => row.userId === userId)).toBe(false);
			expect(await storage.sessions.deleteUser(userId)).toEqual([]);
		});
	});

	it("keeps a user's security events, newest first, a page at a time", async () => {
		const userId = await newUser();
		const start = Date.now() - HOUR_MS;
		const events = [0, 1, 2].map((minute) => event(userId, null, new Date(start + minute * 60_000)));
		for (const one of events) await storage.securityEvents.record(one);
		await storage.securityEvents.record(event(await newUser(), null));

		const first = await storage.securityEvents.page(userId, 2, 0);
		const second = await storage.securityEvents.page(userId, 2, 2);

		expect(first.total).toBe(3);
		expect(first.rows.map((row) => row.id)).toEqual([events[2]!.id, events[1]!.id]);
		expect(second.rows).toEqual([events[0]]);
	});

	describe('rate-limit windows', () => {
		it('counts a window in the database, shared by two instances, starting over once it ends', async () => {
			const key = `conformance:${randomUUID()}`;
			const now = Date.now();
			const hits = [
				await storage.rateLimits.hit(key, 60_000, now),
				await other.rateLimits.hit(key, 60_000, now + 1),
				await storage.rateLimits.hit(key, 60_000, now + 2)
			];
			expect(hits).toEqual([1, 2, 3].map((count) => ({ count, resetsAt: now + 60_000 })));
			expect(await other.rateLimits.hit(key, 60_000, now + 60_000)).toEqual({ count: 1, resetsAt: now + 120_000 });
		});

		it('counts concurrent hits on one key from two instances once each: 1 to N, no count twice', async () => {
			const key = `conformance:${randomUUID()}`;
			const hits = await Promise.all(upTo(20).map((i) => (i % 2 ? storage : other).rateLimits.hit(key, WINDOW_MS, T0)));

			expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(upTo(20));
			expect(hits.every((hit) => hit.resetsAt === T0 + WINDOW_MS)).toBe(true);
		});

		it('counts concurrent hits once each on top of a window that has just started over', async () => {
			const key = `conformance:${randomUUID()}`;
			expect(await storage.rateLimits.hit(key, WINDOW_MS, T0)).toEqual({ count: 1, resetsAt: T0 + WINDOW_MS });
			expect(await other.rateLimits.hit(key, WINDOW_MS, T0 + 1)).toEqual({ count: 2, resetsAt: T0 + WINDOW_MS });
			expect(await storage.rateLimits.hit(key, WINDOW_MS, T0 + WINDOW_MS)).toEqual({
				count: 1,
				resetsAt: T0 + 2 * WINDOW_MS
			});
			const raced = await Promise.all(
				upTo(5).map((i) => (i % 2 ? other : storage).rateLimits.hit(key, WINDOW_MS, T0 + WINDOW_MS + 1))
			);
			expect(raced.map((hit) => hit.count).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
			expect(raced.every((hit) => hit.resetsAt === T0 + 2 * WINDOW_MS)).toBe(true);
		});
	});

	describe('codes', () => {
		it("keeps one code per holder: a new one replaces the holder's own and no one else's", async () => {
			const [laptop, phone] = [`conformance:${randomUUID()}`, `conformance:${randomUUID()}`];
			const now = new Date();
			await storage.codes.replace(code(laptop, 'laptop-1'), now);
			await storage.codes.replace(code(phone, 'phone-1'), now);
			await storage.codes.replace(code(laptop, 'laptop-2'), new Date(now.getTime() + 1));
			expect((await storage.codes.find(laptop))?.value).toBe('laptop-2');
			expect((await storage.codes.find(phone))?.value).toBe('phone-1');
			expect(await storage.codes.find(`conformance:${randomUUID()}`)).toBeNull();
			const rows = await storage.codes.find(laptop);
			expect(Object.keys(rows!).sort()).toEqual(['id', 'value']);
		});

		it('changes a code only while it holds the value the caller saw (compare-and-set)', async () => {
			const holder = `conformance:${randomUUID()}`;
			await storage.codes.replace(code(holder, '0.1.a'), new Date());
			const { id } = (await storage.codes.find(holder))!;
			expect(await storage.codes.update(id, '0.1.a', '1.1.a', new Date())).toBe(true);
			expect(await storage.codes.update(id, '0.1.a', '1.1.b', new Date())).toBe(false);
			expect((await storage.codes.find(holder))?.value).toBe('1.1.a');
			expect(await storage.codes.spend(id, '0.1.a')).toBe(false);
			expect(await storage.codes.spend(id, '1.1.a')).toBe(true);
			expect(await storage.codes.spend(id, '1.1.a')).toBe(false);
			expect(await storage.codes.find(holder)).toBeNull();
		});

		it('lets one of many concurrent spends of a code succeed', async () => {
			const holder = `conformance:${randomUUID()}`;
			await storage.codes.replace(code(holder, '0.1.c'), new Date());
			const { id } = (await storage.codes.find(holder))!;
			const spent = await Promise.all(Array.from({ length: 8 }, () => storage.codes.spend(id, '0.1.c')));
			expect(spent.filter(Boolean)).toHaveLength(1);
		});

		it('leaves a code to the purge once it has expired, and keeps a live one', async () => {
			const at = Date.now();
			const [gone, kept] = [`conformance:${randomUUID()}`, `conformance:${randomUUID()}`];
			await storage.codes.replace(code(gone, 'gone', new Date(at - 1)), new Date(at - 300_000));
			await storage.codes.replace(code(kept, 'kept', new Date(at + 1000)), new Date(at));
			expect(await storage.purge.expiredOther(at)).toBeGreaterThanOrEqual(1);
			expect(await storage.codes.find(gone)).toBeNull();
			expect((await storage.codes.find(kept))?.value).toBe('kept');
		});
	});

	describe('session endings', () => {
		/** What session-endings.ts stores: 64 hex characters, never a token. */
		const newHash = () => randomBytes(32).toString('hex');
		const KEPT_MS = 30 * DAY_MS;

		it('finds the reason by its hash only, with the time it ended to the millisecond', async () => {
			const [first, second, never] = [newHash(), newHash(), newHash()];
			await storage.endings.record([first, second], 'revoked', new Date(T0), new Date(T0 + KEPT_MS));

			for (const hash of [first, second]) {
				expect(await storage.endings.find(hash, new Date(T0 + 1))).toEqual({
					reason: 'revoked',
					endedAt: new Date(T0)
				});
				// Read from another connection (another instance): stored, not only held by this one.
				expect((await other.endings.find(hash, new Date(T0 + 1)))?.reason).toBe('revoked');
			}
			expect(await storage.endings.find(never, new Date(T0 + 1))).toBeNull();
			expect(await storage.endings.find(first.toUpperCase(), new Date(T0 + 1))).toBeNull();
			expect(await storage.endings.find(first.slice(0, 63), new Date(T0 + 1))).toBeNull();
		});

		it('keeps the first reason of a hash: a later ending of the same token writes nothing', async () => {
			const hash = newHash();
			await storage.endings.record([hash], 'idle', new Date(T0), new Date(T0 + KEPT_MS));
			await storage.endings.record([hash, hash], 'everywhere', new Date(T0 + 5), new Date(T0 + 5 + KEPT_MS));
			await other.endings.record([hash], 'cli', new Date(T0 + 9), new Date(T0 + 9 + KEPT_MS));

			expect(await storage.endings.find(hash, new Date(T0 + 10))).toEqual({ reason: 'idle', endedAt: new Date(T0) });
		});

		it('stores any reason string, and records many endings in one call or none for an empty list', async () => {
			const hashes = Array.from({ length: 40 }, newHash);
			await storage.endings.record([], 'revoked', new Date(T0), new Date(T0 + KEPT_MS));
			await storage.endings.record(hashes, 'a-reason-no-one-has-named-yet', new Date(T0), new Date(T0 + KEPT_MS));

			const found = await Promise.all(hashes.map((hash) => storage.endings.find(hash, new Date(T0))));
			expect(new Set(found.map((row) => row?.reason))).toEqual(new Set(['a-reason-no-one-has-named-yet']));
		});

		it('finds a reason until it expires, not at its expiry; the purge deletes it then and keeps a live one', async () => {
			// Rows earlier tests left before this test's instants go first, so that the count is this test's own.
			await storage.purge.expiredOther(T0 + KEPT_MS + 1);
			const [gone, kept] = [newHash(), newHash()];
			await storage.endings.record([gone], 'ip-change', new Date(T0), new Date(T0 + 1000));
			await storage.endings.record([kept], 'cli', new Date(T0), new Date(T0 + 2000));

			expect((await storage.endings.find(gone, new Date(T0 + 999)))?.reason).toBe('ip-change');
			expect(await storage.endings.find(gone, new Date(T0 + 1000))).toBeNull();

			expect(await storage.purge.expiredOther(T0 + 1001)).toBe(1);
			expect(await storage.purge.expiredOther(T0 + 1001)).toBe(0);
			const left = await selectRows<{ token_hash: string }>(
				storage,
				'SELECT token_hash FROM session_ending WHERE token_hash IN (?, ?)',
				[gone, kept]
			);
			expect(left.map((row) => row.token_hash)).toEqual([kept]);
			expect((await storage.endings.find(kept, new Date(T0 + 1001)))?.reason).toBe('cli');
		});
	});

	describe('purge', () => {
		it('deletes expired sessions a batch at a time, and expired codes and windows', async () => {
			const userId = await newUser();
			const at = Date.now();
			const expired = [1, 2, 3].map((minutes) => new Date(at - minutes * 60_000));
			for (const expiresAt of expired) await newSession(userId, { expiresAt });
			const live = await newSession(userId);
			await runStatement(
				storage,
				'INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
				['conformance-code', 'sign-in-otp-x@example.com', 'hashed', new Date(at - 1000), new Date(at), new Date(at)]
			);
			await storage.rateLimits.hit(`conformance:${randomUUID()}`, 1000, at - 5000);

			expect(await storage.purge.expiredSessions(at, 2)).toBe(2);
			expect(await storage.purge.expiredSessions(at, 2)).toBeGreaterThanOrEqual(1);
			while ((await storage.purge.expiredSessions(at, 100)) > 0);
			expect(await storage.purge.expiredOther(at)).toBeGreaterThanOrEqual(2);
			expect(idsOf(await storage.sessions.listActiveByUser(userId, new Date(at)))).toEqual([live.id]);
			expect((await sessionRows(storage)).filter((row) => row.expiresAt.getTime() < at)).toEqual([]);
		});

		it('keeps a session whose expiresAt is this very instant or later, and deletes one just past it', async () => {
			const userId = await newUser();
			const [past, now, later] = await Promise.all(
				[T0 - 1, T0, T0 + 1].map((at) => newSession(userId, { expiresAt: new Date(at) }))
			);

			expect(await storage.purge.expiredSessions(T0, 100)).toBe(1);
			expect(await storage.purge.expiredSessions(T0, 100)).toBe(0);
			const left = (await sessionRows(storage)).filter((row) => row.userId === userId);
			expect(idsOf(left)).toEqual(idsOf([now!, later!]));
			expect(left.some((row) => row.id === past!.id)).toBe(false);
		});

		it("deletes expired codes, ended windows and Better Auth's day-old limits, and keeps every live one", async () => {
			// Rows earlier tests left before T0 go first, so that the count below is this test's own.
			await storage.purge.expiredOther(T0);
			const [goneCode, keptCode] = [`conformance:${randomUUID()}`, `conformance:${randomUUID()}`];
			await storage.codes.replace(code(goneCode, 'gone', new Date(T0 - 1)), new Date(T0 - 300_000));
			await storage.codes.replace(code(keptCode, 'kept', new Date(T0 + 1)), new Date(T0 - 300_000));
			const [goneWindow, keptWindow] = [`conformance:${randomUUID()}`, `conformance:${randomUUID()}`];
			await storage.rateLimits.hit(goneWindow, WINDOW_MS, T0 - WINDOW_MS - 1);
			await storage.rateLimits.hit(keptWindow, WINDOW_MS, T0 - WINDOW_MS + 1);
			// Better Auth's own limiter (rate_limit), whose rows count a request at last_request (epoch ms).
			const [goneLimit, keptLimit] = [`conformance:${randomUUID()}`, `conformance:${randomUUID()}`];
			for (const [key, lastRequest] of [
				[goneLimit, T0 - DAY_MS - 1],
				[keptLimit, T0 - HOUR_MS]
			] as const)
				await runStatement(storage, 'INSERT INTO rate_limit (id, "key", "count", last_request) VALUES (?, ?, ?, ?)', [
					randomUUID(),
					key,
					1,
					lastRequest
				]);

			expect(await storage.purge.expiredOther(T0)).toBe(3);
			expect(await storage.purge.expiredOther(T0)).toBe(0);

			expect(await storage.codes.find(goneCode)).toBeNull();
			expect((await storage.codes.find(keptCode))?.value).toBe('kept');
			const keysIn = async (table: string, keys: string[]) =>
				(await selectRows<{ key: string }>(storage, `SELECT "key" FROM ${table} WHERE "key" IN (?, ?)`, keys))
					.map((row) => row.key)
					.sort();
			expect(await keysIn('rate_limit_window', [goneWindow, keptWindow])).toEqual([keptWindow]);
			expect(await keysIn('rate_limit', [goneLimit, keptLimit])).toEqual([keptLimit]);
		});

		it('gives a lease to one holder at a time until it is released or expires', async () => {
			const name = `conformance-${randomUUID()}`;
			const now = Date.now();
			expect(await storage.purge.acquireLease(name, 'first', 1000, now)).toBe(true);
			expect(await other.purge.acquireLease(name, 'second', 1000, now + 1)).toBe(false);
			expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2)).toBe(true);
			expect(await other.purge.acquireLease(name, 'second', 1000, now + 2000)).toBe(true);
			expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2001)).toBe(false);
			await other.purge.releaseLease(name, 'second');
			expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2002)).toBe(true);
		});

		it('lets only its holder release a lease: another holder releasing it leaves it held', async () => {
			const name = `conformance-${randomUUID()}`;
			expect(await storage.purge.acquireLease(name, 'A', 1000, T0)).toBe(true);

			await other.purge.releaseLease(name, 'B');

			expect(await other.purge.acquireLease(name, 'B', 1000, T0 + 1)).toBe(false);
			expect(await storage.purge.acquireLease(name, 'A', 1000, T0 + 2)).toBe(true);
		});

		it('renews a lease for its holder, and lends it to another only once it has expired', async () => {
			const name = `conformance-${randomUUID()}`;
			expect(await storage.purge.acquireLease(name, 'a', 1000, T0)).toBe(true);
			expect(await other.purge.acquireLease(name, 'b', 1000, T0 + 1)).toBe(false);
			expect(await storage.purge.acquireLease(name, 'a', 1000, T0 + 500)).toBe(true);
			expect(await other.purge.acquireLease(name, 'b', 1000, T0 + 1200)).toBe(false);
			expect(await other.purge.acquireLease(name, 'b', 1000, T0 + 1501)).toBe(true);
			await storage.purge.releaseLease(name, 'a');
			expect(await storage.purge.acquireLease(name, 'a', 1000, T0 + 1600)).toBe(false);
			await other.purge.releaseLease(name, 'b');
			expect(await storage.purge.acquireLease(name, 'a', 1000, T0 + 1600)).toBe(true);
		});

		it('gives a lease to exactly one of many holders racing for it: when free, while held, and once expired', async () => {
			const name = `conformance-${randomUUID()}`;
			const holders = upTo(8).map((i) => ({ holder: `holder-${i}`, instance: i % 2 ? storage : other }));
			const winners = async (now: number) => {
				const taken = await Promise.all(
					holders.map(({ holder, instance }) => instance.purge.acquireLease(name, holder, 1000, now))
				);
				return holders.filter((_, i) => taken[i]).map(({ holder }) => holder);
			};

			const first = await winners(T0);
			expect(first).toHaveLength(1);
			expect(await winners(T0 + 500)).toEqual(first);
			expect(await winners(T0 + 5000)).toHaveLength(1);
		});
	});

	it('migrates once when two instances start together on an empty database', async () => {
		const fresh = await engine.scratch();
		const instances = [openStorage(fresh.target), openStorage(fresh.target)];
		try {
			await Promise.all(instances.map((instance) => instance.migrate()));
			await instances[1]!.migrate();

			expect(await tableNames(instances[0]!)).toEqual(expect.arrayContaining(['session', 'user', 'job_lease']));
			const migrations = readdirSync(`drizzle/${engine.name}`).filter((file) => file.endsWith('.sql')).length;
			expect(await engine.appliedMigrations(instances[0]!)).toBe(migrations);
		} finally {
			await Promise.all(instances.map((instance) => instance.close()));
			await fresh.drop();
		}
	});

	describe('faults', () => {
		// A loop, not it.each: it.each shortens the interpolated name.
		for (const fault of engine.faults)
			it(`names ${fault.name} as the fault its engine gives it, and the same storage serves again once it is lifted`, async () => {
				const provoked = await fault.provoke(scratch);
				try {
					try {
						expect(provoked.error).toBeInstanceOf(Error);
						expect(provoked.storage.classifyFault(provoked.error)).toMatch(fault.named);
					} finally {
						await provoked.lift();
					}
					const key = `conformance:${randomUUID()}`;
					expect(await provoked.storage.rateLimits.hit(key, WINDOW_MS, T0)).toEqual({
						count: 1,
						resetsAt: T0 + WINDOW_MS
					});
					await expect(provoked.storage.ping()).resolves.toBeUndefined();
				} finally {
					await provoked.storage.close();
				}
			});

		it('names a call on a storage already closed, as a request arriving during shutdown makes it, and the other storage on the database still serves', async () => {
			const closing = openStorage(scratch.target);
			await closing.ping();
			await closing.close();

			const error = await rejectionOf(closing.rateLimits.hit(`conformance:${randomUUID()}`, WINDOW_MS, T0));

			expect(error).toBeInstanceOf(Error);
			expect(storage.classifyFault(error)).toMatch(engine.closed);
			expect(await storage.rateLimits.hit(`conformance:${randomUUID()}`, WINDOW_MS, T0)).toEqual({
				count: 1,
				resetsAt: T0 + WINDOW_MS
			});
			await expect(storage.ping()).resolves.toBeUndefined();
		});

		it('leaves errors that are not the database being unusable to be a 500: a duplicate key, a syntax error', async () => {
			const once = event(await newUser(), null);
			await storage.securityEvents.record(once);

			const duplicate = await rejectionOf(storage.securityEvents.record(once));
			const syntax = await rejectionOf(runStatement(storage, 'SELEC 1', []));

			expect(duplicate).toBeInstanceOf(Error);
			expect(storage.classifyFault(duplicate)).toBeNull();
			expect(syntax).toBeInstanceOf(Error);
			expect(storage.classifyFault(syntax)).toBeNull();
			expect(storage.classifyFault(new Error('not a database fault'))).toBeNull();
		});
	});
});
