import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../src/lib/server/auth/policy';
import { sessionCookieName, signSessionToken } from '../src/lib/server/auth/session-cookie';
import { loadConfig } from '../src/lib/server/config';
import { migrateDatabase, openDatabase, type Database } from '../src/lib/server/db';
import { startInstance, type Instance } from '../tests/soak/support/instance';
import { createScratchDatabase, type Dialect, type ScratchDatabase } from './scratch';
import { seedSessions, seedUsers, uniquePrefix, userIdOf } from './seed';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_SECRET = 'latchkey-bench-secret-0123456789abcdef';
/** Where the bench's requests come from: sessions seeded with it look like the browser's own network. */
const LOOPBACK = '127.0.0.1';
const SEEDING_POOL = { max: 2, statementTimeoutMs: 10 * 60_000 };

/** `vite build`, as `npm run build` does; its output goes to stderr, beside the bench's progress. */
export function buildApp(): void {
	const built = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], {
		cwd: PROJECT_ROOT,
		stdio: ['ignore', process.stderr, process.stderr]
	});
	if (built.status !== 0) throw new Error(`vite build failed (exit ${built.status ?? built.signal})`);
}

/** A production server (`node build`) on its own scratch database, and that database opened here to seed it. */
export interface BenchApp {
	dialect: Dialect;
	instance: Instance;
	database: Database;
	/** The page everyone may see, without a cookie. */
	publicUrl: string;
	/** The page only a signed-in user sees. */
	protectedUrl: string;
	/** A new signed-in user; `refreshDue` makes every request slide their session (the worst case). */
	signIn(options?: { refreshDue?: boolean; label?: string }): Promise<SignedIn>;
	stop(): Promise<void>;
}

export interface SignedIn {
	userId: string;
	/** `name=value`, as the browser sends it back. */
	cookie: string;
}

export interface AppOptions {
	dialect: Dialect;
	port: number;
	/** Runs before the server starts, so its migrations and bulk rows do not compete with it. */
	seed?: (database: Database) => Promise<void>;
	env?: Record<string, string>;
}

export async function startBenchApp({ dialect, port, seed, env = {} }: AppOptions): Promise<BenchApp> {
	const scratch = await createScratchDatabase(dialect);
	// Seeding a million rows is one statement, and may take longer than the server's 30 s limit.
	const database = openDatabase(scratch.target, SEEDING_POOL);
	try {
		await migrateDatabase(database, PROJECT_ROOT);
		await seed?.(database);
		const serverEnv = {
			NODE_ENV: 'production',
			ORIGIN: `http://localhost:${port}`,
			BETTER_AUTH_SECRET: BENCH_SECRET,
			DATABASE_URL: scratch.target.dialect === 'sqlite' ? `file:${scratch.target.file}` : scratch.target.url,
			// Required in production; never dialled: the bench seeds its sessions instead of mailing codes.
			SMTP_URL: `smtp://${LOOPBACK}:25`,
			MAIL_FROM: 'Latchkey bench <bench@example.com>',
			PURGE_INTERVAL: 'off',
			...env
		};
		const instance = await startInstance(port, serverEnv);
		const cookieName = sessionCookieName(loadConfig(serverEnv).cookies);
		// The server listens on the loopback address; "localhost" may resolve to ::1 first.
		const base = `http://${LOOPBACK}:${port}`;
		return {
			dialect,
			instance,
			database,
			publicUrl: `${base}/`,
			protectedUrl: `${base}/account`,
			signIn: async (options = {}) => {
				const { userId, token } = await seedSignedInUser(database, options.refreshDue ?? false);
				return { userId, cookie: `${cookieName}=${encodeURIComponent(signSessionToken(token, BENCH_SECRET))}` };
			},
			stop: () => stopApp(instance, database, scratch)
		};
	} catch (error) {
		await database.close();
		await scratch.drop();
		throw error;
	}
}

/**
 * A user with one live session from the loopback network, as a sign-in would leave it. A
 * session whose refresh interval is 0 is due a refresh on every request.
 */
async function seedSignedInUser(database: Database, refreshDue: boolean) {
	const prefix = uniquePrefix();
	await seedUsers(database, prefix, 1);
	const userId = userIdOf(prefix, 0);
	const policy = refreshDue ? { ...PRESETS.standard, refreshSeconds: 0 } : PRESETS.standard;
	// Last slid a minute ago: a session slid this very millisecond would have nothing to move.
	const now = Date.now() - 60_000;
	const tokenOf = await seedSessions(database, {
		count: 1,
		owners: { userId },
		now,
		expiresAt: now + policy.idleSeconds * 1000,
		policy,
		ipAddress: LOOPBACK
	});
	return { userId, token: tokenOf(0) };
}

async function stopApp(instance: Instance, database: Database, scratch: ScratchDatabase): Promise<void> {
	await instance.stop();
	await database.close();
	await scratch.drop();
}
