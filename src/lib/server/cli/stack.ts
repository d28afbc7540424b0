import type { Redis } from 'ioredis';
import { createAuth, type Auth } from '../auth/better-auth';
import type { AppConfig } from '../config';
import { openStorage, type Storage } from '../db';
import { safeErrorMessage } from '../errors';
import { createRedis, redisReady } from '../redis';
import { createSessionLog, type SessionLog } from '../session-log';

/**
 * The app's database, Redis and Better Auth instance, built from the configuration alone:
 * `auth/server.ts` needs SvelteKit's request store, which a command-line process has none of.
 */
export interface CliStack {
	database: Storage;
	auth: Auth;
	log: SessionLog;
	/** Closes the pool and Redis, so the process ends by itself once output is written. */
	close(): Promise<void>;
}

/** How long to wait for Redis before giving up: the client's own connect timeout, with room for one retry. */
const REDIS_READY_TIMEOUT_MS = 5000;

export async function openStack(config: AppConfig, writeLogLine: (line: string) => void): Promise<CliStack> {
	const database = openStorage(config.database, {
		poolMax: config.pool.max,
		statementTimeoutMs: config.pool.statementTimeoutMs
	});
	const redis = config.redisUrl ? createRedis(config.redisUrl) : null;
	const close = async () => {
		await database.close();
		if (redis) await closeRedis(redis);
	};
	try {
		if (config.autoMigrate) await database.migrate();
	} catch (error) {
		await close();
		throw error;
	}
	if (redis) await waitForRedis(redis, writeLogLine);
	const log = createSessionLog(config.secret, writeLogLine);
	const auth = createAuth({ config, database, currentRequestEvent: () => undefined, log, redis });
	return { database, auth, log, close };
}

/**
 * Every command works from the database alone; Redis only holds copies of sessions, which a
 * revocation clears best-effort (auth/sessions.ts). So an operator can still end sessions
 * while Redis is down: the command goes on, saying what is left to expire by itself.
 */
async function waitForRedis(redis: Redis, writeLogLine: (line: string) => void): Promise<void> {
	try {
		await redisReady(redis, REDIS_READY_TIMEOUT_MS);
	} catch (error) {
		writeLogLine(
			`sessions: ${safeErrorMessage(error)}; going on without it: the Redis copies of sessions ended now expire with their TTL`
		);
	}
}

/** QUIT when connected; a client still trying to reconnect is simply dropped. */
async function closeRedis(redis: Redis): Promise<void> {
	if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
	else redis.disconnect();
}
