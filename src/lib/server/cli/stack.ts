import type { Redis } from 'ioredis';
import { secondaryStorageOf, type SecondaryStorage } from '../auth/cached-copies';
import type { AppConfig } from '../config';
import { openStorage, type Storage } from '../db';
import { safeErrorMessage } from '../errors';
import { createRedis, redisReady } from '../redis';
import { createSessionLog, type SessionLog } from '../session-log';
import { createSessionEndings, type SessionEndings } from '../auth/session-endings';

/**
 * What the commands need, built from the configuration alone: the storage port, Better Auth's
 * Redis copies when REDIS_URL is set (a revocation clears them, as the app's does) and the
 * session log. A command-line process has no SvelteKit request store and needs no Better Auth.
 */
export interface CliStack {
	database: Storage;
	cache: SecondaryStorage | null;
	log: SessionLog;
	/** Where the reason of each ending is kept for the browser that held the session (an operator's: `cli`). */
	endings: SessionEndings;
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
	const endings = createSessionEndings(database.endings, config.secret, { logError: writeLogLine });
	return { database, cache: redis ? secondaryStorageOf(redis) : null, log, endings, close };
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
