import { Redis } from 'ioredis';
import { getConfig } from './config';

let current: Redis | null | undefined;

/**
 * The shared Redis client when REDIS_URL is set (secondary storage for Better Auth, and the
 * sign-in rate-limit counters), else null. Connected on first use, never at import time.
 */
export function getRedis(): Redis | null {
	if (current !== undefined) return current;
	const url = getConfig().redisUrl;
	current = url ? createRedis(url) : null;
	return current;
}

export function createRedis(url: string): Redis {
	const client = new Redis(url, {
		// Fail a command quickly when Redis is down instead of queueing it for ever: requests
		// answer 503 and /healthz reports it, rather than hanging.
		maxRetriesPerRequest: 1,
		enableOfflineQueue: false,
		connectTimeout: 2000,
		lazyConnect: false
	});
	// ioredis reconnects by itself; without a listener an error event would crash the process.
	client.on('error', (error: Error) => console.error(`latchkey: redis: ${error.message}`));
	return client;
}

/**
 * The client refuses commands until connected (no offline queue, so requests fail fast when
 * Redis is down): start-up and the CLI wait for the first connection before using it.
 */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
	if (redis.status === 'ready') return Promise.resolve();
	return new Promise((resolve, reject) => {
		const onReady = () => {
			clearTimeout(timer);
			resolve();
		};
		const timer = setTimeout(() => {
			redis.off('ready', onReady);
			reject(new Error(`Redis did not answer within ${timeoutMs / 1000} seconds`));
		}, timeoutMs);
		redis.once('ready', onReady);
	});
}
