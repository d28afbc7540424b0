import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, openStorage, type SecurityEventRow, type Storage } from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';
import { runStatement, sessionRows, tableNames } from './support/rows';

/**
 * What every engine's adapter (src/lib/server/db/<engine>/) must do behind the storage port.
 * Adding an engine: one entry in ENGINES — a fresh database of its own per run, dropped after,
 * and a way to make it fail as a database can (a lock, a server out of reach) — then make
 * every test pass.
 */
interface EngineCase {
	name: string;
	/** A fresh, empty database. */
	scratch(): Promise<ScratchDatabase>;
	/** A storage on `scratch` whose next write fails as the database failing (not the request); undo with `lift`. */
	broken(scratch: ScratchDatabase): Promise<{ storage: Storage; lift(): Promise<void> }>;
	/** How many migrations the database records as applied, in the migrator's own table. */
	appliedMigrations(storage: Storage): Promise<number>;
}

const ENGINES: EngineCase[] = [
	{
		name: 'sqlite',
		scratch: () => createScratchDatabase('sqlite'),
		async broken(scratch) {
			if (scratch.target.dialect !== 'sqlite') throw new Error('a SQLite target was expected');
			// Another connection holds the write lock past the storage's wait for it.
			const holder = new Sqlite(scratch.target.file);
			holder.exec('BEGIN EXCLUSIVE');
			const storage = openStorage(scratch.target, { lockWaitMs: 100 });
			return {
				storage,
				lift: async () => {
					holder.exec('ROLLBACK');
					holder.close();
					await storage.close();
				}
			};
		},
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'sqlite') throw new Error('a SQLite storage was expected');
			return (database.client.prepare('SELECT count(*) AS n FROM "__drizzle_migrations"').get() as { n: number }).n;
		}
	},
	{
		name: 'postgres',
		scratch: () => createScratchDatabase('postgres'),
		async broken() {
			// Nothing listens on port 1: the server cannot be reached.
			const storage = openStorage('postgres://postgres@127.0.0.1:1/latchkey');
			return { storage, lift: () => storage.close() };
		},
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'postgres') throw new Error('a PostgreSQL storage was expected');
			const result = await database.client.query<{ n: string }>(
				'SELECT count(*) AS n FROM drizzle."__drizzle_migrations"'
			);
			return Number(result.rows[0]!.n);
		}
	},
	{
		name: 'mysql',
		scratch: () => createScratchDatabase('mysql'),
		async broken() {
			// Nothing listens on port 1: the server cannot be reached.
			const storage = openStorage('mysql://root@127.0.0.1:1/latchkey');
			return { storage, lift: () => storage.close() };
		},
		async appliedMigrations(storage) {
			const database = connectionOf(storage);
			if (database.dialect !== 'mysql') throw new Error('a MySQL storage was expected');
			const [rows] = await database.client.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
			return Number(rows[0]!.n);
		}
	}
];

const HOUR_MS = 3600 * 1000;

describe.each(ENGINES)('the storage port on $name', (engine) => {
	let scratch: ScratchDatabase;
	let storage: Storage;
	let people = 0;

	beforeAll(async () => {
		scratch = await engine.scratch();
		storage = openStorage(scratch.target);
		await storage.migrate();
	});

	afterAll(async () => {
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
				persistent: true
			};
			await runStatement(
				storage,
				`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, ip_address, user_agent, policy,
					idle_seconds, refresh_seconds, absolute_expires_at, known_networks, persistent)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				Object.values(session)
			);

			expect(await storage.sessions.findByToken(session.token)).toStrictEqual({ session, user });
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

		it('finds a session by id, and counts active sessions by policy', async () => {
			const userId = await newUser();
			const { id, token } = await newSession(userId, { policy: 'conformance-a' });
			await newSession(userId, { policy: 'conformance-a' });
			await newSession(userId, { policy: 'conformance-b' });
			await newSession(userId, { policy: 'conformance-b', expiresAt: new Date(Date.now() - 1000) });

			expect(await storage.sessions.findById(id)).toEqual({ id, token, userId });
			expect(await storage.sessions.findById('no-such-id')).toBeNull();
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

		it("ends every session of a user, or all but one, and never another user's", async () => {
			const userId = await newUser();
			const stranger = await newSession(await newUser());
			const [kept, other, third] = [await newSession(userId), await newSession(userId), await newSession(userId)];

			expect(idsOf(await storage.sessions.endOthers(userId, kept.id))).toEqual(idsOf([other, third]));
			expect(await storage.sessions.findByToken(kept.token)).not.toBeNull();
			expect(idsOf(await storage.sessions.endByUser(userId))).toEqual([kept.id]);
			expect(await storage.sessions.findByToken(stranger.token)).not.toBeNull();
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

	it('counts rate-limit windows in the database, shared by two instances, starting over once a window ends', async () => {
		const other = openStorage(scratch.target);
		try {
			const key = `conformance:${randomUUID()}`;
			const now = Date.now();
			const hits = [
				await storage.rateLimits.hit(key, 60_000, now),
				await other.rateLimits.hit(key, 60_000, now + 1),
				await storage.rateLimits.hit(key, 60_000, now + 2)
			];
			expect(hits).toEqual([1, 2, 3].map((count) => ({ count, resetsAt: now + 60_000 })));
			expect(await other.rateLimits.hit(key, 60_000, now + 60_000)).toEqual({ count: 1, resetsAt: now + 120_000 });
		} finally {
			await other.close();
		}
	});

	describe('codes', () => {
		const code = (holder: string, value: string, expiresAt = new Date(Date.now() + 300_000)) => ({
			id: randomUUID(),
			holder,
			value,
			expiresAt
		});

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

		it('gives a lease to one holder at a time until it is released or expires', async () => {
			const other = openStorage(scratch.target);
			try {
				const name = `conformance-${randomUUID()}`;
				const now = Date.now();
				expect(await storage.purge.acquireLease(name, 'first', 1000, now)).toBe(true);
				expect(await other.purge.acquireLease(name, 'second', 1000, now + 1)).toBe(false);
				expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2)).toBe(true);
				expect(await other.purge.acquireLease(name, 'second', 1000, now + 2000)).toBe(true);
				expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2001)).toBe(false);
				await other.purge.releaseLease(name, 'second');
				expect(await storage.purge.acquireLease(name, 'first', 1000, now + 2002)).toBe(true);
			} finally {
				await other.close();
			}
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

	it('classifies a real fault as the database being unusable, and a ping still works after', async () => {
		const broken = await engine.broken(scratch);
		let failure: unknown;
		try {
			await broken.storage.securityEvents.record(event(await newUser(), null));
		} catch (error) {
			failure = error;
		} finally {
			await broken.lift();
		}
		expect(failure).toBeInstanceOf(Error);
		expect(storage.classifyFault(failure)).toEqual(expect.any(String));
		expect(storage.classifyFault(new Error('not a database fault'))).toBeNull();
		await expect(storage.ping()).resolves.toBeUndefined();
	});
});
