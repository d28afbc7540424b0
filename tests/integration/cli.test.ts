import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/lib/server/auth/better-auth';
import type { DatabaseTarget } from '../../src/lib/server/db/target';
import { DevOutbox } from '../../src/lib/server/mail/outbox';
import { createRedis, redisReady } from '../../src/lib/server/redis';
import { listSecurityEvents } from '../../src/lib/server/security-log';
import {
	newVisitor,
	sessionCookieFrom,
	signIn,
	startTestApp,
	testConfig,
	TEST_ORIGIN,
	TEST_SECRET,
	testRequestEvent,
	type TestApp
} from './support/app';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';
import { startOwnRedis } from './support/redis-server';
import { sessionRows, updateSessionRow } from './support/rows';

/**
 * `npm run sessions` as an operator runs it: the real script in a child process, against a
 * database seeded through real sign-ins. Each run starts tsx and opens the database (seconds), so
 * independent runs go in parallel and each run's output is checked for several things.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SPAWN_TIMEOUT = 90_000;

const CHROME_MAC =
	'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

function databaseUrl(target: DatabaseTarget): string {
	return target.dialect === 'sqlite' ? `file:${target.file}` : target.url;
}

/** Runs the CLI with the app's environment; REDIS_URL is off unless a test sets it. */
function sessionsCli(args: string[], env: Record<string, string>): Promise<Run> {
	return new Promise((resolve, reject) => {
		const child = spawn(TSX, ['scripts/sessions.ts', ...args], {
			cwd: ROOT,
			env: { ...process.env, BETTER_AUTH_SECRET: TEST_SECRET, ORIGIN: TEST_ORIGIN, REDIS_URL: '', ...env },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

const USAGE_LINE = 'Usage: npm run sessions -- <command> [options]';

describe('sessions CLI arguments', () => {
	let dir: string;

	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
	});

	afterAll(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it(
		'prints usage for help, refuses bad arguments with status 2 and never opens the database for them',
		async () => {
			const file = join(dir, 'never-opened', 'latchkey.db');
			const env = { DATABASE_URL: `file:${file}` };
			const [help, unknown, both, batch, config] = await Promise.all([
				sessionsCli(['help'], env),
				sessionsCli(['frobnicate'], env),
				sessionsCli(['revoke', '--user', 'a@example.com', '--id', 'x'], env),
				sessionsCli(['purge-expired', '--batch', '0'], env),
				sessionsCli(['stats'], { ...env, BETTER_AUTH_SECRET: 'too-short' })
			]);

			expect(help).toMatchObject({ code: 0, stderr: '' });
			expect(help.stdout).toContain(USAGE_LINE);

			for (const [run, message] of [
				[unknown, 'sessions: unknown command "frobnicate"'],
				[both, 'sessions: revoke takes --user or --id, not both'],
				[batch, 'sessions: --batch must be a whole number of at least 1, not "0"']
			] as const) {
				expect(run.code).toBe(2);
				expect(run.stdout).toBe('');
				expect(run.stderr.split('\n')[0]).toBe(message);
				expect(run.stderr).toContain(USAGE_LINE);
			}

			expect(config.code).toBe(1);
			expect(config.stderr).toContain('BETTER_AUTH_SECRET is 9 characters long');
			expect(config.stderr).not.toMatch(/^\s+at /m);

			expect(existsSync(file)).toBe(false);
		},
		SPAWN_TIMEOUT
	);
});

describe.each(DIALECTS)('sessions CLI on %s', (dialect) => {
	let scratch: ScratchDatabase;
	let app: TestApp;
	let env: Record<string, string>;
	const alice = `alice-${dialect}@example.com`;
	const bob = `bob-${dialect}@example.com`;

	interface Seeded {
		id: string;
		userId: string;
		device: string;
		policy: string;
		ipAddress: string;
		bound: boolean;
	}
	const active: Seeded[] = [];
	const expired: string[] = [];
	const userIds = new Map<string, string>();
	const sessionsOf = (email: string) => active.filter((session) => session.userId === userIds.get(email));

	async function seed(email: string, userAgent: string, device: string, rememberMe = false): Promise<Seeded> {
		const visitor = { ...newVisitor(), userAgent };
		const cookie = sessionCookieFrom(await signIn(app, email, { visitor, rememberMe }));
		const { session } = await app.validator.validateSessionCookie(cookie);
		return {
			id: session!.id,
			userId: session!.userId,
			device,
			policy: rememberMe ? 'remember-me' : 'standard',
			ipAddress: visitor.address,
			bound: false
		};
	}

	const cli = (...args: string[]) => sessionsCli(args, env);
	const idsOf = async (userId: string) =>
		(await sessionRows(app.database))
			.filter((row) => row.userId === userId)
			.map((row) => row.id)
			.sort();

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		app = await startTestApp(scratch.target);
		env = { DATABASE_URL: databaseUrl(scratch.target) };
		active.push(
			await seed(alice, CHROME_MAC, 'Chrome 131 on macOS'),
			await seed(alice, SAFARI_IPHONE, 'Safari on iPhone', true),
			await seed(alice, FIREFOX_WINDOWS, 'Firefox 133 on Windows'),
			await seed(bob, CHROME_MAC, 'Chrome 131 on macOS', true),
			await seed(bob, FIREFOX_WINDOWS, 'Firefox 133 on Windows')
		);
		userIds.set(alice, active[0]!.userId).set(bob, active[3]!.userId);
		// One of Alice's sessions bound to a device key (the key itself is not what the CLI shows).
		const deviceKey = JSON.stringify({ alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } });
		expect(await app.database.sessions.bindDevice(active[1]!.id, deviceKey, new Date())).toBe(true);
		active[1]!.bound = true;
		// Signed in, then left alone past their expiry: rows the purge is for.
		for (const email of [alice, bob, bob]) {
			const { id } = await seed(email, CHROME_MAC, 'Chrome 131 on macOS');
			await updateSessionRow(app.database, id, { expiresAt: new Date(Date.now() - 60_000) });
			expired.push(id);
		}
	});

	afterAll(async () => {
		await app?.database.close();
		await scratch?.drop();
	});

	it(
		'lists a user’s active sessions as a table and as JSON, never a token, and counts them by policy',
		async () => {
			const tokens = (await sessionRows(app.database)).map((row) => row.token);
			const [table, json, stats, statsJson] = await Promise.all([
				cli('list', '--user', alice),
				cli('list', '--user', alice.toUpperCase(), '--json'),
				cli('stats'),
				cli('stats', '--json')
			]);
			for (const run of [table, json, stats, statsJson]) {
				expect(run).toMatchObject({ code: 0, stderr: '' });
				for (const token of tokens) expect(run.stdout).not.toContain(token);
			}

			const lines = table.stdout.trimEnd().split('\n');
			expect(lines[0]).toMatch(/^ID +DEVICE +IP +CREATED +LAST ACTIVE +EXPIRES +POLICY +BOUND$/);
			for (const session of sessionsOf(alice)) {
				const row = lines.find((line) => line.startsWith(`${session.id} `));
				expect(row, session.id).toBeDefined();
				expect(row).toContain(`  ${session.device}  `);
				expect(row).toContain(`  ${session.ipAddress}  `);
				expect(row).toMatch(new RegExp(` ${session.policy} +${session.bound ? 'yes' : 'no'}$`));
			}
			expect(lines.at(-1)).toBe(`3 active sessions for ${alice}.`);
			for (const id of [...expired, ...sessionsOf(bob).map((session) => session.id)]) {
				expect(table.stdout).not.toContain(id);
			}

			const listed = JSON.parse(json.stdout) as Record<string, string>[];
			expect(listed.map((session) => session.id).sort()).toEqual(
				sessionsOf(alice)
					.map((session) => session.id)
					.sort()
			);
			for (const session of listed) {
				expect(Object.keys(session).sort()).toEqual(
					['boundToDevice', 'createdAt', 'device', 'expiresAt', 'id', 'ipAddress', 'lastActiveAt', 'policy'].sort()
				);
				const seeded = sessionsOf(alice).find((candidate) => candidate.id === session.id)!;
				expect(session).toMatchObject({
					device: seeded.device,
					policy: seeded.policy,
					ipAddress: seeded.ipAddress,
					boundToDevice: seeded.bound
				});
				expect(new Date(session.expiresAt!).toISOString()).toBe(session.expiresAt);
				expect(new Date(session.expiresAt!).getTime()).toBeGreaterThan(Date.now());
			}
			const activity = listed.map((session) => Date.parse(session.lastActiveAt!));
			expect(activity).toEqual([...activity].sort((a, b) => b - a));

			expect(JSON.parse(statsJson.stdout)).toEqual({ total: 5, byPolicy: { standard: 3, 'remember-me': 2 } });
			expect(stats.stdout.trimEnd().split('\n')).toEqual([
				'POLICY       ACTIVE SESSIONS',
				'standard     3',
				'remember-me  2',
				'total        5'
			]);
		},
		SPAWN_TIMEOUT
	);

	it(
		'revokes exactly one session by id, and purges exactly the expired rows',
		async () => {
			const target = sessionsOf(alice)[1]!;
			const before = (await sessionRows(app.database)).map((row) => row.id);
			const [revoked, purged] = await Promise.all([
				cli('revoke', '--id', target.id),
				cli('purge-expired', '--batch', '2')
			]);

			expect(revoked.code).toBe(0);
			expect(revoked.stdout.trim()).toBe(`Ended 1 session (${target.id}).`);
			// A batch of 2 over 3 expired rows: 2, then 1 (fewer than a batch, so the last).
			expect(purged.code).toBe(0);
			expect(purged.stdout).toContain('Deleted 3 expired sessions in 2 batches.');

			const after = (await sessionRows(app.database)).map((row) => row.id);
			const removed = [target.id, ...expired];
			expect(after.sort()).toEqual(before.filter((id) => !removed.includes(id)).sort());

			const logLines = revoked.stderr.trim().split('\n');
			expect(logLines).toHaveLength(1);
			expect(JSON.parse(logLines[0]!)).toMatchObject({ event: 'session.revoked', reason: 'cli', user: target.userId });
			expect(revoked.stderr).not.toContain(target.id);

			const [event] = (await listSecurityEvents(app.database, target.userId, 1)).events;
			expect(event).toMatchObject({
				type: 'SESSION_REVOKED',
				ipAddress: null,
				userAgent: null,
				detail: { by: 'cli', sessions: 1 }
			});
		},
		SPAWN_TIMEOUT
	);

	// Runs after the test above, which ended one of alice's three sessions.
	it(
		'revokes every session of one user and none of another’s; unknown email or id exits 1',
		async () => {
			const bobBefore = await idsOf(userIds.get(bob)!);
			const [revoked, unknownEmail, unknownId] = await Promise.all([
				cli('revoke', '--user', alice),
				cli('list', '--user', `nobody-${dialect}@example.com`),
				cli('revoke', '--id', 'no-such-session')
			]);

			expect(revoked.code).toBe(0);
			expect(revoked.stdout.trim()).toBe(`Ended 2 sessions of ${alice}.`);
			expect(await idsOf(userIds.get(alice)!)).toEqual([]);
			expect(await idsOf(userIds.get(bob)!)).toEqual(bobBefore);
			expect(bobBefore).toHaveLength(2);
			const revokedLines = revoked.stderr
				.trim()
				.split('\n')
				.map((line) => JSON.parse(line) as Record<string, unknown>);
			expect(revokedLines).toHaveLength(2);
			expect(revokedLines.every((line) => line.event === 'session.revoked' && line.reason === 'cli')).toBe(true);
			const [event] = (await listSecurityEvents(app.database, userIds.get(alice)!, 1)).events;
			expect(event).toMatchObject({ type: 'SIGNED_OUT_EVERYWHERE', detail: { by: 'cli', sessions: 2 } });

			expect(unknownEmail).toMatchObject({ code: 1, stdout: '' });
			expect(unknownEmail.stderr.trim()).toBe(`sessions: no user with email nobody-${dialect}@example.com`);
			expect(unknownId).toMatchObject({ code: 1, stdout: '' });
			expect(unknownId.stderr.trim()).toBe('sessions: no session with id no-such-session');
		},
		SPAWN_TIMEOUT
	);

	it(
		'removes the Redis copy of a session it ends when REDIS_URL is set',
		async () => {
			const redis = new Redis(REDIS_URL);
			const redisEnv = { REDIS_URL };
			const outbox = new DevOutbox();
			// The app as a Redis deployment runs it: sessions it creates are copied to Redis.
			const auth = createAuth({
				config: testConfig(scratch.target, redisEnv),
				database: app.database,
				currentRequestEvent: testRequestEvent,
				log: app.log,
				redis
			});
			const withRedis = { ...app, outbox, auth };
			try {
				const cookie = sessionCookieFrom(await signIn(withRedis, `carol-${dialect}@example.com`));
				const token = decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;
				const row = (await sessionRows(app.database)).find((candidate) => candidate.token === token)!;
				expect(await redis.exists(`latchkey:auth:${token}`)).toBe(1);

				const revoked = await sessionsCli(['revoke', '--id', row.id], { ...env, ...redisEnv });
				expect(revoked).toMatchObject({ code: 0 });
				expect(revoked.stdout.trim()).toBe(`Ended 1 session (${row.id}).`);
				expect(await redis.exists(`latchkey:auth:${token}`)).toBe(0);
				expect((await sessionRows(app.database)).some((candidate) => candidate.id === row.id)).toBe(false);
			} finally {
				await redis.quit();
			}
		},
		SPAWN_TIMEOUT
	);

	it(
		'ends sessions while Redis is down, and says what it leaves to expire',
		async () => {
			const ownRedis = await startOwnRedis();
			const redis = createRedis(ownRedis.url);
			try {
				await redisReady(redis, 5000);
				const redisEnv = { REDIS_URL: ownRedis.url };
				const auth = createAuth({
					config: testConfig(scratch.target, redisEnv),
					database: app.database,
					currentRequestEvent: testRequestEvent,
					log: app.log,
					redis
				});
				const withRedis = { ...app, auth };
				const [byIdEmail, byUserEmail] = [`outage-id-${dialect}@example.com`, `outage-user-${dialect}@example.com`];
				const cookies = [
					sessionCookieFrom(await signIn(withRedis, byIdEmail)),
					sessionCookieFrom(await signIn(withRedis, byUserEmail))
				];
				const token = decodeURIComponent(cookies[0]!.split('=')[1]!).split('.')[0]!;
				const row = (await sessionRows(app.database)).find((candidate) => candidate.token === token)!;
				await ownRedis.stop();

				// Independent runs, so in parallel: each waits for Redis before going on without it.
				const [byId, byUser] = await Promise.all([
					sessionsCli(['revoke', '--id', row.id], { ...env, ...redisEnv }),
					sessionsCli(['revoke', '--user', byUserEmail], { ...env, ...redisEnv })
				]);
				console.log(`CLI revoke with Redis down (${dialect}): exit ${byId.code} and ${byUser.code}`);
				expect(byId).toMatchObject({ code: 0, stdout: `Ended 1 session (${row.id}).\n` });
				expect(byUser).toMatchObject({ code: 0, stdout: `Ended 1 session of ${byUserEmail}.\n` });
				expect(byId.stderr).toContain('going on without it');
				for (const cookie of cookies) expect((await app.validator.validateSessionCookie(cookie)).session).toBeNull();
			} finally {
				redis.disconnect();
				await ownRedis.remove();
			}
		},
		SPAWN_TIMEOUT
	);
});
