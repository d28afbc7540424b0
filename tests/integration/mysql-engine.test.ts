import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { eq } from 'drizzle-orm';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMysql, parseMysqlUrl, type MysqlDatabase } from '../../src/lib/server/db/mysql/connection';
import { classifyFault } from '../../src/lib/server/db/faults';
import { migrateMysql } from '../../src/lib/server/db/mysql/migrate';
import { account, securityEvent, session, user } from '../../src/lib/server/db/mysql/schema';
import {
	inTransaction,
	mysqlPurge,
	mysqlSecurityEvents,
	mysqlSessionRows,
	pingMysql
} from '../../src/lib/server/db/mysql/storage';
import type { SecurityEventRow } from '../../src/lib/server/db/port';

/**
 * The MySQL engine's pieces on a real server (MariaDB here): schema, migrations and their
 * lock, every literal statement, fault classification, and Better Auth's Drizzle adapter with
 * the `mysql` provider on this schema. Each run makes databases of its own and drops them.
 * What every engine must do behind the port, races on rate-limit windows and the purge lease
 * included, is storage-conformance.test.ts's.
 */
const ADMIN_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
const MIGRATIONS = (JSON.parse(readFileSync('drizzle/mysql/meta/_journal.json', 'utf8')) as { entries: unknown[] })
	.entries.length;

interface Scratch {
	database: MysqlDatabase;
	drop(): Promise<void>;
}

async function withAdmin<T>(work: (admin: mysql.Connection) => Promise<T>): Promise<T> {
	const admin = await mysql.createConnection({ uri: ADMIN_URL });
	try {
		return await work(admin);
	} finally {
		await admin.end();
	}
}

/** A new, empty database in the server's default character set (the first migration changes it). */
async function scratchDatabase(options: Parameters<typeof openMysql>[1] = {}): Promise<Scratch> {
	const name = `latchkey_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
	await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
	const url = new URL(ADMIN_URL);
	url.pathname = `/${name}`;
	const database = openMysql(parseMysqlUrl(url.toString())!, options);
	return {
		database,
		async drop() {
			await database.close();
			await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name}`));
		}
	};
}

async function select<T>(database: MysqlDatabase, sql: string, values: unknown[] = []): Promise<T[]> {
	const [rows] = await database.client.query<RowDataPacket[]>(sql, values);
	return rows as T[];
}

const appliedMigrations = async (database: MysqlDatabase) =>
	Number((await select<{ n: number }>(database, 'SELECT COUNT(*) AS n FROM __drizzle_migrations'))[0]!.n);

const HOUR = 3600 * 1000;
/** Milliseconds that are not a whole second, so a lost fraction shows. */
const T0 = new Date(Date.UTC(2026, 0, 15, 12, 30, 45, 123));

let scratch: Scratch;
let database: MysqlDatabase;

beforeAll(async () => {
	scratch = await scratchDatabase();
	database = scratch.database;
	await migrateMysql(database);
});

afterAll(async () => {
	await scratch?.drop();
});

let users = 0;
async function newUser(overrides: Partial<typeof user.$inferInsert> = {}): Promise<string> {
	const id = randomUUID();
	users += 1;
	await database.db.insert(user).values({
		id,
		name: `User ${users}`,
		email: `user-${users}-${id.slice(0, 8)}@example.com`,
		createdAt: T0,
		updatedAt: T0,
		...overrides
	});
	return id;
}

async function newSession(userId: string, overrides: Partial<typeof session.$inferInsert> = {}) {
	const row = {
		id: randomUUID(),
		userId,
		token: randomUUID().replaceAll('-', ''),
		expiresAt: new Date(Date.now() + HOUR),
		createdAt: T0,
		updatedAt: T0,
		ipAddress: '203.0.113.7',
		userAgent: 'Mozilla/5.0',
		policy: 'standard',
		idleSeconds: 3600,
		refreshSeconds: 600,
		absoluteExpiresAt: null,
		knownNetworks: '',
		persistent: true,
		deviceKey: null,
		deviceBoundAt: null,
		...overrides
	};
	await database.db.insert(session).values(row);
	return row;
}

function eventRow(userId: string, overrides: Partial<SecurityEventRow> = {}): SecurityEventRow {
	return {
		id: randomUUID(),
		userId,
		sessionId: null,
		type: 'SIGN_IN',
		createdAt: new Date(),
		ipAddress: '203.0.113.7',
		userAgent: 'Mozilla/5.0',
		detail: '{}',
		...overrides
	};
}

describe('MySQL migrations', () => {
	it('apply once, and again find nothing left to do', async () => {
		expect(await appliedMigrations(database)).toBe(MIGRATIONS);
		await migrateMysql(database);
		expect(await appliedMigrations(database)).toBe(MIGRATIONS);
	});

	it('run once when two instances start together on an empty database', async () => {
		const first = await scratchDatabase();
		const url = new URL(ADMIN_URL);
		const [current] = await select<{ name: string }>(first.database, 'SELECT DATABASE() AS name');
		url.pathname = `/${current!.name}`;
		const second = openMysql(parseMysqlUrl(url.toString())!);
		try {
			await Promise.all([migrateMysql(first.database), migrateMysql(second)]);
			expect(await appliedMigrations(first.database)).toBe(MIGRATIONS);
			expect(await select(first.database, 'SHOW TABLES LIKE ?', ['session'])).toHaveLength(1);
		} finally {
			await second.close();
			await first.drop();
		}
	});

	it('wait for the lock another instance holds, and give up after the wait', async () => {
		const holder = await database.client.getConnection();
		try {
			await holder.query("SELECT GET_LOCK(LEFT(CONCAT('latchkey_migrate:', DATABASE()), 64), 0)");
			await expect(migrateMysql(database, process.cwd(), 1)).rejects.toThrow(/another instance has been migrating/);
		} finally {
			await holder.query("SELECT RELEASE_LOCK(LEFT(CONCAT('latchkey_migrate:', DATABASE()), 64))");
			holder.release();
		}
		await migrateMysql(database);
	});

	it('make every table and text column utf8mb4 with binary comparison', async () => {
		const tables = await select<{ name: string; collation: string }>(
			database,
			`SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '__drizzle_migrations'`
		);
		expect(tables.map((table) => table.name).sort()).toEqual(
			[
				'account',
				'job_lease',
				'rate_limit',
				'rate_limit_window',
				'security_event',
				'session',
				'session_ending',
				'user',
				'verification'
			].sort()
		);
		for (const table of tables) expect(table, table.name).toMatchObject({ collation: 'utf8mb4_bin' });
		const columns = await select<{ column: string; charset: string; collation: string }>(
			database,
			`SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) AS \`column\`, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
			FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '__drizzle_migrations' AND CHARACTER_SET_NAME IS NOT NULL`
		);
		expect(columns.length).toBeGreaterThan(30);
		for (const column of columns)
			expect(column, column.column).toMatchObject({ charset: 'utf8mb4', collation: 'utf8mb4_bin' });
	});
});

describe('the MySQL schema', () => {
	it('keeps milliseconds, through Drizzle and through the literal statements', async () => {
		const userId = await newUser();
		const absolute = new Date(T0.getTime() + 7 * 24 * HOUR + 999);
		const row = await newSession(userId, { expiresAt: new Date(T0.getTime() + 1), absoluteExpiresAt: absolute });
		const [viaDrizzle] = await database.db.select().from(session).where(eq(session.id, row.id));
		expect(viaDrizzle!.createdAt.getTime()).toBe(T0.getTime());
		expect(viaDrizzle!.expiresAt.getTime()).toBe(T0.getTime() + 1);
		expect(viaDrizzle!.absoluteExpiresAt!.getTime()).toBe(absolute.getTime());
		const found = await mysqlSessionRows(database).findByToken(row.token);
		expect(found!.session.createdAt.getTime()).toBe(T0.getTime());
		expect(found!.session.expiresAt.getTime()).toBe(T0.getTime() + 1);
		expect(found!.session.absoluteExpiresAt!.getTime()).toBe(absolute.getTime());
		expect(found!.user.createdAt.getTime()).toBe(T0.getTime());
	});

	it('tells apart tokens, ids and emails that differ only in case', async () => {
		const lower = await newUser({ email: 'case@example.com' });
		const upper = await newUser({ email: 'CASE@example.com' });
		const token = `Tk${randomUUID().replaceAll('-', '')}`.slice(0, 32);
		await newSession(lower, { token });
		await newSession(upper, { token: token.toLowerCase() });
		await newSession(upper, { token: token.toUpperCase() });
		const sessions = mysqlSessionRows(database);
		expect((await sessions.findByToken(token))!.user.id).toBe(lower);
		expect((await sessions.findByToken(token.toLowerCase()))!.user.id).toBe(upper);
		expect(await sessions.findByToken(token.replace('T', 't').replace('k', 'K'))).toBeNull();
		const id = randomUUID().toUpperCase();
		await newUser({ id });
		await newUser({ id: id.toLowerCase() });
		const byEmail = await database.db.select().from(user).where(eq(user.email, 'Case@example.com'));
		expect(byEmail).toEqual([]);
	});

	it('takes 4-byte UTF-8 in user agents, names and emails', async () => {
		const email = `😀-${randomUUID().slice(0, 8)}@exämple.com`;
		const userId = await newUser({ email, name: 'Zoë 🦊 𝔘𝔫𝔦𝔠𝔬𝔡𝔢' });
		const userAgent = 'Mozilla/5.0 🐱‍👤 (𠜎𠜱 X11; Linux) 🚀';
		const row = await newSession(userId, { userAgent });
		const found = await mysqlSessionRows(database).findByToken(row.token);
		expect(found!.session.userAgent).toBe(userAgent);
		expect(found!.user.email).toBe(email);
		expect(found!.user.name).toBe('Zoë 🦊 𝔘𝔫𝔦𝔠𝔬𝔡𝔢');
		await mysqlSecurityEvents(database).record(eventRow(userId, { userAgent }));
		const page = await mysqlSecurityEvents(database).page(userId, 20, 0);
		expect(page.rows[0]!.userAgent).toBe(userAgent);
	});
});

describe('the MySQL statements', () => {
	it('find sessions with their users by a batch of tokens', async () => {
		const userId = await newUser({ emailVerified: true, image: null });
		const a = await newSession(userId, { persistent: false, knownNetworks: '198.51.100.0/24' });
		const b = await newSession(userId);
		const found = await mysqlSessionRows(database).findByTokens([a.token, b.token, 'missing']);
		expect([...found.keys()].sort()).toEqual([a.token, b.token].sort());
		const stored = found.get(a.token)!;
		expect(stored.session).toEqual({ ...a, absoluteExpiresAt: null });
		expect(stored.user).toMatchObject({ id: userId, emailVerified: true, image: null });
		expect(await mysqlSessionRows(database).findByTokens([])).toEqual(new Map());
	});

	it('extend a session only while it holds the refresh time that was read (compare-and-set)', async () => {
		const row = await newSession(await newUser());
		const sessions = mysqlSessionRows(database);
		const later = new Date(T0.getTime() + 60_001);
		expect(await sessions.extend(row.id, new Date(later.getTime() + HOUR), later, T0)).toBe(true);
		expect(await sessions.extend(row.id, new Date(later.getTime() + 2 * HOUR), later, T0)).toBe(false);
		const found = await sessions.findByToken(row.token);
		expect(found!.session.updatedAt.getTime()).toBe(later.getTime());
		expect(found!.session.expiresAt.getTime()).toBe(later.getTime() + HOUR);
	});

	it('record a network with its event once, also when requests race', async () => {
		const userId = await newUser();
		const row = await newSession(userId);
		const sessions = mysqlSessionRows(database);
		const change = { sessionId: row.id, networks: '198.51.100.0/24', seen: '' };
		const results = await Promise.all(
			[1, 2, 3, 4].map(() => sessions.recordNetwork(eventRow(userId, { sessionId: row.id }), change))
		);
		expect(results.filter(Boolean)).toHaveLength(1);
		expect((await sessions.findByToken(row.token))!.session.knownNetworks).toBe('198.51.100.0/24');
		expect((await mysqlSecurityEvents(database).page(userId, 20, 0)).total).toBe(1);
	});

	it('list the active sessions of a user, and count the active ones by policy', async () => {
		const userId = await newUser();
		const now = new Date();
		const active = await newSession(userId, { policy: 'count-test-a' });
		await newSession(userId, { policy: 'count-test-a', expiresAt: new Date(now.getTime() - 1) });
		await newSession(userId, { policy: 'count-test-b', absoluteExpiresAt: new Date(now.getTime() - 1) });
		const withAbsolute = await newSession(userId, {
			policy: 'count-test-b',
			absoluteExpiresAt: new Date(now.getTime() + HOUR)
		});
		const sessions = mysqlSessionRows(database);
		const listed = await sessions.listActiveByUser(userId, now);
		expect(listed.map((row) => row.id).sort()).toEqual([active.id, withAbsolute.id].sort());
		expect(listed.find((row) => row.id === active.id)).toEqual(active);
		const counts = await sessions.countActiveByPolicy(now);
		expect(
			counts.filter((row) => row.policy.startsWith('count-test-')).sort((x, y) => x.policy.localeCompare(y.policy))
		).toEqual([
			{ policy: 'count-test-a', sessions: 1 },
			{ policy: 'count-test-b', sessions: 2 }
		]);
	});

	it('end sessions by tokens, by id, by user and all but one, returning each row once', async () => {
		const userId = await newUser();
		const [a, b, c, d, e] = await Promise.all([1, 2, 3, 4, 5].map(() => newSession(userId)));
		const sessions = mysqlSessionRows(database);
		const raced = await Promise.all([1, 2, 3].map(() => sessions.endByTokens([a!.token, b!.token])));
		expect(
			raced
				.flat()
				.map((row) => row.id)
				.sort()
		).toEqual([a!.id, b!.id].sort());
		expect(raced.flat()[0]).toMatchObject({ userId });
		expect(await sessions.endByTokens([])).toEqual([]);
		expect(await sessions.endById(c!.id)).toEqual({ id: c!.id, token: c!.token, userId });
		expect(await sessions.endById(c!.id)).toBeNull();
		expect((await sessions.endOthers(userId, d!.id)).map((row) => row.id)).toEqual([e!.id]);
		expect((await sessions.endByUser(userId)).map((row) => row.id)).toEqual([d!.id]);
		expect(await sessions.endByUser(userId)).toEqual([]);
	});

	it('delete a user with their sessions and accounts', async () => {
		const userId = await newUser();
		const row = await newSession(userId);
		await database.db.insert(account).values({
			id: randomUUID(),
			userId,
			accountId: 'github-1',
			providerId: 'github',
			createdAt: T0,
			updatedAt: T0
		});
		const ended = await mysqlSessionRows(database).deleteUser(userId);
		expect(ended).toEqual([{ id: row.id, token: row.token, userId }]);
		expect(await database.db.select().from(user).where(eq(user.id, userId))).toEqual([]);
		expect(await database.db.select().from(account).where(eq(account.userId, userId))).toEqual([]);
	});

	it('record security events and read them a page at a time, newest first', async () => {
		const userId = await newUser();
		const events = mysqlSecurityEvents(database);
		for (let i = 0; i < 5; i++)
			await events.record(eventRow(userId, { createdAt: new Date(T0.getTime() + i), detail: JSON.stringify({ i }) }));
		const first = await events.page(userId, 2, 0);
		expect(first.total).toBe(5);
		expect(first.rows.map((row) => row.detail)).toEqual(['{"i":4}', '{"i":3}']);
		expect(first.rows[0]).toMatchObject({ userId, sessionId: null, type: 'SIGN_IN', ipAddress: '203.0.113.7' });
		expect(first.rows[0]!.createdAt.getTime()).toBe(T0.getTime() + 4);
		expect((await events.page(userId, 2, 4)).rows.map((row) => row.detail)).toEqual(['{"i":0}']);
		const [stored] = await database.db.select().from(securityEvent).where(eq(securityEvent.id, first.rows[0]!.id));
		expect(stored!.detail).toBe('{"i":4}');
	});

	it('purge expired sessions in batches, then codes and finished windows', async () => {
		const userId = await newUser();
		const now = Date.now() + 10 * 365 * 24 * HOUR;
		await database.client.query('DELETE FROM session WHERE expires_at < ?', [new Date(now)]);
		for (let i = 0; i < 5; i++) await newSession(userId, { expiresAt: new Date(now - 1000 - i) });
		const kept = await newSession(userId, { expiresAt: new Date(now + HOUR) });
		const purge = mysqlPurge(database);
		expect(await purge.expiredSessions(now, 2)).toBe(2);
		expect(await purge.expiredSessions(now, 2)).toBe(2);
		expect(await purge.expiredSessions(now, 2)).toBe(1);
		expect(await purge.expiredSessions(now, 2)).toBe(0);
		expect(await mysqlSessionRows(database).findByToken(kept.token)).not.toBeNull();
		await database.client.query(
			'INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
			[randomUUID(), 'sign-in-otp-x@example.com', '123456', new Date(now - 1), T0, T0]
		);
		await database.client.query('INSERT INTO rate_limit_window (`key`, `count`, resets_at) VALUES (?, 1, ?)', [
			`purge:${randomUUID()}`,
			now - 1
		]);
		await database.client.query('INSERT INTO rate_limit (id, `key`, `count`, last_request) VALUES (?, ?, 1, ?)', [
			randomUUID(),
			`purge:${randomUUID()}`,
			now - 25 * HOUR
		]);
		expect(await purge.expiredOther(now)).toBeGreaterThanOrEqual(3);
		expect(await purge.expiredOther(now)).toBe(0);
	});

	it('run a transaction again when InnoDB ended it in a deadlock, and only then', async () => {
		const deadlock = () =>
			Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' });
		let runs = 0;
		const result = await inTransaction(database, async (connection) => {
			await connection.query('SELECT 1');
			if (++runs < 3) throw deadlock();
			return 'done';
		});
		expect({ result, runs }).toEqual({ result: 'done', runs: 3 });
		runs = 0;
		const always = inTransaction(database, async () => {
			runs += 1;
			throw deadlock();
		});
		await expect(always).rejects.toThrow(/Deadlock/);
		expect(runs).toBe(3);
		runs = 0;
		await expect(
			inTransaction(database, async () => {
				runs += 1;
				throw new Error('not a deadlock');
			})
		).rejects.toThrow('not a deadlock');
		expect(runs).toBe(1);
	});

	it('answer a ping', async () => {
		await expect(pingMysql(database)).resolves.toBeUndefined();
	});
});

describe('MySQL faults', () => {
	it('name a server that cannot be reached', async () => {
		const closed = openMysql(
			{ dialect: 'mysql', url: 'mysql://root@127.0.0.1:1/latchkey' },
			{ connectTimeoutMs: 1000 }
		);
		try {
			const error = await pingMysql(closed).catch((caught: unknown) => caught);
			expect(classifyFault(error)).toMatch(/^the database server cannot be reached \(ECONNREFUSED/);
		} finally {
			await closed.close();
		}
	});

	it('name a statement the server stopped at the statement timeout', async () => {
		const slow = await scratchDatabase({ statementTimeoutMs: 200 });
		try {
			const error = await slow.database.client.query('SELECT 1 FROM DUAL WHERE SLEEP(3) = 0').catch((caught) => caught);
			expect(classifyFault(error)).toMatch(/^a MySQL statement ran past the statement timeout/);
			// The connection is still good for the next statement.
			await expect(pingMysql(slow.database)).resolves.toBeUndefined();
		} finally {
			await slow.drop();
		}
	});

	it('name a statement the driver gave up on', async () => {
		const error = await database.client
			.query({ sql: 'SELECT SLEEP(1)', timeout: 100 })
			.catch((caught: unknown) => caught);
		expect(classifyFault(new Error('Failed query: SELECT SLEEP(1)', { cause: error }))).toMatch(
			/^MySQL did not answer within the statement timeout \(PROTOCOL_SEQUENCE_TIMEOUT/
		);
	});

	it('leave other errors alone', async () => {
		const error = await database.client.query('SELECT * FROM no_such_table').catch((caught: unknown) => caught);
		expect(classifyFault(error)).toBeNull();
		expect(classifyFault(new Error('anything'))).toBeNull();
	});
});

describe("Better Auth's Drizzle adapter with the mysql provider", () => {
	it('creates a user, an account and a session on this schema, and finds the session', async () => {
		const auth = betterAuth({
			secret: 'a-test-secret-that-is-long-enough-for-better-auth',
			baseURL: 'http://localhost:5173',
			database: drizzleAdapter(database.db, { provider: 'mysql', schema: database.schema }),
			emailAndPassword: { enabled: true },
			session: {
				additionalFields: {
					policy: { type: 'string', required: true, input: false },
					knownNetworks: { type: 'string', required: false, input: false },
					idleSeconds: { type: 'number', required: true, input: false },
					refreshSeconds: { type: 'number', required: true, input: false },
					absoluteExpiresAt: { type: 'date', required: false, input: false },
					persistent: { type: 'boolean', required: true, input: false }
				}
			},
			databaseHooks: {
				session: {
					create: {
						before: async (created) => ({
							data: {
								...created,
								policy: 'standard',
								idleSeconds: 3600,
								refreshSeconds: 600,
								absoluteExpiresAt: new Date(Date.now() + 24 * HOUR),
								persistent: true,
								knownNetworks: ''
							}
						})
					}
				}
			}
		});
		const email = `adapter-${randomUUID().slice(0, 8)}@example.com`;
		const signedUp = await auth.api.signUpEmail({
			body: { email, password: 'correct horse battery staple', name: 'Zoë 🦊' },
			headers: new Headers({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' })
		});
		expect(signedUp.token).toBeTruthy();
		const [created] = await database.db.select().from(user).where(eq(user.email, email));
		expect(created).toMatchObject({ name: 'Zoë 🦊', emailVerified: false });
		const [credential] = await database.db.select().from(account).where(eq(account.userId, created!.id));
		expect(credential).toMatchObject({ providerId: 'credential' });
		const stored = await mysqlSessionRows(database).findByToken(signedUp.token!);
		expect(stored!.user.id).toBe(created!.id);
		expect(stored!.session).toMatchObject({
			policy: 'standard',
			persistent: true,
			userAgent: 'Mozilla/5.0 (X11; Linux x86_64)'
		});
		const context = await auth.$context;
		const found = await context.internalAdapter.findSession(signedUp.token!);
		expect(found!.session.id).toBe(stored!.session.id);
		expect(found!.session.expiresAt.getTime()).toBe(stored!.session.expiresAt.getTime());
		expect(found!.user.email).toBe(email);
	});
});
