import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../src/lib/server/auth/policy';
import { sessionCookieName, signSessionToken } from '../src/lib/server/auth/cookies';
import { credentialCookieName, credentialValue } from '../src/lib/server/auth/device-binding';
import { loadConfig } from '../src/lib/server/config';
import { migrateDatabase, openDatabase, type Database } from '../src/lib/server/db';
import { startInstance, type Instance } from '../tests/soak/support/instance';
import type { Peer } from './peers';
import { createScratchDatabase, type Dialect, type ScratchDatabase } from './scratch';
import { bindToDevice, seedSessions, seedUsers, uniquePrefix, userIdOf } from './seed';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_SECRET = 'latchkey-bench-secret-0123456789abcdef';
const LOOPBACK = '127.0.0.1';

/**
 * Where the servers are reached, and where the bench's requests come from: sessions seeded with
 * the client's address look like the browser's own network. Loopback unless --netns
 * (bench/netns.sh) puts the load generator in another network namespace.
 */
const network = { server: LOOPBACK, client: LOOPBACK };

/** Servers listen on every address and are loaded at `server`; sessions are seeded from `client`. */
export function useNetwork(server: string, client: string): void {
	network.server = server;
	network.client = client;
}
const SEEDING_POOL = { max: 2, statementTimeoutMs: 10 * 60_000 };
/**
 * How long the credential cookies of bound sessions are accepted: longer than any run, since a
 * credential that expired mid-run would turn the bound case into signed-out pages unnoticed.
 */
const BOUND_CREDENTIAL_LIFETIME_MS = 24 * 3600_000;

/** `vite build`, as `npm run build` does. */
export function buildApp(): Promise<void> {
	return viteBuild(PROJECT_ROOT, 'vite build');
}

/**
 * `vite build` in `cwd`, as a child process so that two builds can run at once. Its output
 * (mostly the bundler's warnings about dependencies) is shown only when it fails.
 */
export function viteBuild(cwd: string, what: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn('npx', ['vite', 'build', '--logLevel', 'error'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
		const output: Buffer[] = [];
		child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
		child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
		child.once('error', reject);
		child.once('close', (code, signal) => {
			if (code === 0) return resolve();
			process.stderr.write(Buffer.concat(output));
			reject(new Error(`${what} failed (exit ${code ?? signal})`));
		});
	});
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
	signIn(options?: { refreshDue?: boolean }): Promise<SignedIn>;
	/** `count` new signed-in users at once (bulk rows), as signIn makes them one by one. */
	signInMany(count: number, options?: { refreshDue?: boolean }): Promise<SignedIn[]>;
	/**
	 * `count` new signed-in users (as signInMany) whose sessions are bound to a device key, as
	 * after a DBSC registration: `cookie` carries the credential cookie too, `sessionCookie` not.
	 */
	signInBound(count: number): Promise<BoundSignedIn[]>;
	/**
	 * The peer build in `buildDir` (see peers.ts) as another server on the same database, with
	 * the same environment but for its session hook.
	 */
	startPeer(peer: Peer, buildDir: string, port: number): Promise<BenchServer>;
	stop(): Promise<void>;
}

/** Another server of the bench on the app's database: a peer. */
export interface BenchServer {
	instance: Instance;
	publicUrl: string;
	protectedUrl: string;
}

export interface SignedIn {
	userId: string;
	/** `name=value`, as the browser sends it back. */
	cookie: string;
}

export interface BoundSignedIn extends SignedIn {
	/** The session cookie alone, as a copy taken off the device would be. */
	sessionCookie: string;
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
			// Loopback still answers the readiness check; the veth address answers the load.
			...(network.server === LOOPBACK ? {} : { HOST: '0.0.0.0' }),
			...env
		};
		const instance = await startInstance(port, serverEnv);
		const cookieName = sessionCookieName(loadConfig(serverEnv).cookies);
		const cookieOf = (token: string) => `${cookieName}=${encodeURIComponent(signSessionToken(token, BENCH_SECRET))}`;
		const credentialName = credentialCookieName(loadConfig(serverEnv).cookies);
		const peers: Instance[] = [];
		return {
			dialect,
			instance,
			database,
			...pageUrls(port),
			signInMany: async (count, options = {}) => {
				const users = await seedSignedInUsers(database, count, options.refreshDue ?? false);
				return users.map(({ userId, token }) => ({ userId, cookie: cookieOf(token) }));
			},
			signInBound: async (count) => {
				const users = await seedSignedInUsers(database, count, false);
				// The validator checks the credential of a bound row whatever DEVICE_BOUND_SESSIONS says:
				// that setting only decides whether sign-ins invite browsers to register.
				await bindToDevice(
					database,
					users.map((user) => user.sessionId)
				);
				const expiresAt = Date.now() + BOUND_CREDENTIAL_LIFETIME_MS;
				return users.map(({ userId, token, sessionId }) => {
					const sessionCookie = cookieOf(token);
					const credential = `${credentialName}=${credentialValue(BENCH_SECRET, sessionId, expiresAt)}`;
					return { userId, sessionCookie, cookie: `${sessionCookie}; ${credential}` };
				});
			},
			signIn: async (options = {}) => {
				const [user] = await seedSignedInUsers(database, 1, options.refreshDue ?? false);
				return { userId: user!.userId, cookie: cookieOf(user!.token) };
			},
			startPeer: async (peer, buildDir, peerPort) => {
				const peerEnv = { ...serverEnv, ORIGIN: `http://localhost:${peerPort}`, BENCH_SESSION_HOOK: peer };
				const peerInstance = await startInstance(peerPort, peerEnv, buildDir);
				peers.push(peerInstance);
				return { instance: peerInstance, ...pageUrls(peerPort) };
			},
			stop: async () => {
				for (const peer of peers) await peer.stop();
				await stopApp(instance, database, scratch);
			}
		};
	} catch (error) {
		await database.close();
		await scratch.drop();
		throw error;
	}
}

/** By address: "localhost" may resolve to ::1 first. */
function pageUrls(port: number) {
	const base = `http://${network.server}:${port}`;
	return { publicUrl: `${base}/`, protectedUrl: `${base}/account` };
}

/**
 * Users with one live session each from the loopback network, as a sign-in would leave them
 * (user i owns session i). A session whose refresh interval is 0 is due a refresh on every request.
 */
async function seedSignedInUsers(database: Database, count: number, refreshDue: boolean) {
	const prefix = uniquePrefix();
	await seedUsers(database, prefix, count);
	const policy = refreshDue ? { ...PRESETS.standard, refreshSeconds: 0 } : PRESETS.standard;
	// Last slid a minute ago: a session slid this very millisecond would have nothing to move.
	const now = Date.now() - 60_000;
	const { tokenOf, idOf } = await seedSessions(database, {
		count,
		owners: { prefix, users: count },
		now,
		expiresAt: now + policy.idleSeconds * 1000,
		policy,
		ipAddress: network.client
	});
	return Array.from({ length: count }, (_, index) => ({
		userId: userIdOf(prefix, index),
		token: tokenOf(index),
		sessionId: idOf(index)
	}));
}

async function stopApp(instance: Instance, database: Database, scratch: ScratchDatabase): Promise<void> {
	await instance.stop();
	await database.close();
	await scratch.drop();
}
