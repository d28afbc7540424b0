import { json } from '@sveltejs/kit';
import { getConfig } from '#lib/server/config.ts';
import { getStorage, pingDatabase } from '#lib/server/db/index.ts';
import { getRedis } from '#lib/server/redis.ts';
import type { RequestHandler } from './$types';

const CHECK_TIMEOUT_MS = 2000;

/** For load balancers and orchestrators: 200 when every dependency answers, else 503. Never cached. */
export const GET: RequestHandler = async () => {
	const checks: Record<string, Promise<void>> = { db: pingDatabase(getStorage()) };
	const redis = getConfig().redisUrl ? getRedis() : null;
	if (redis) checks.redis = redis.ping().then(() => undefined);
	const results = Object.fromEntries(
		await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await outcome(check)] as const))
	);
	const healthy = Object.values(results).every((result) => result === 'ok');
	return json(results, { status: healthy ? 200 : 503, headers: { 'cache-control': 'no-store' } });
};

async function outcome(check: Promise<void>): Promise<'ok' | 'down'> {
	const timeout = new Promise<never>((_, reject) =>
		setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()
	);
	try {
		await Promise.race([check, timeout]);
		return 'ok';
	} catch {
		return 'down';
	}
}
