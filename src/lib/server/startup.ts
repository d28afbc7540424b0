import { ConfigError, getConfig, setServerBuild } from './config';
import { describeTarget, getStorage, redactCredentials } from './db';
import { safeErrorMessage } from './errors';
import { schedulePurge } from './purge';
import { getRedis, redisReady } from './redis';

/**
 * Runs once before the first request: validates the environment, brings the schema up to
 * date and starts the periodic purge. A problem stops the process with a plain message
 * instead of a stack trace. `dev` is the build's: true only in the development server.
 */
export async function prepareServer(dev: boolean): Promise<void> {
	try {
		setServerBuild(dev);
		const config = getConfig();
		if (config.autoMigrate) await getStorage().migrate();
		const redis = getRedis();
		if (redis) await redisReady(redis, 10_000);
		const stopPurge = config.purge.intervalSeconds
			? schedulePurge(getStorage(), {
					intervalSeconds: config.purge.intervalSeconds,
					batchSize: config.purge.batchSize
				})
			: () => undefined;
		closeOnShutdown(stopPurge);
		console.info(
			`latchkey: ready on ${config.origin} with ${describeDatabase()}${config.redisUrl ? ' and Redis' : ''}`
		);
	} catch (error) {
		console.error(error instanceof ConfigError ? error.message : `Latchkey cannot start: ${describeFailure(error)}`);
		process.exit(1);
	}
}

/**
 * adapter-node, on SIGTERM or SIGINT, stops accepting connections, lets in-flight requests
 * finish, then emits `sveltekit:shutdown`: only then are the pool and Redis closed.
 */
function closeOnShutdown(stopPurge: () => void): void {
	process.once('sveltekit:shutdown', async () => {
		stopPurge();
		await getStorage().close();
		await getRedis()?.quit();
	});
}

function describeDatabase(): string {
	return describeTarget(getConfig().database);
}

function describeFailure(error: unknown): string {
	const message = safeErrorMessage(error);
	return `the database or Redis could not be prepared (${redactCredentials(message)})`;
}
