import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A Redis server of the test's own (never the shared one), which the test can stop and start
 * again on the same port. It saves nothing by itself; `snapshot()` writes its data to its own
 * folder, which a restart loads: Redis coming back with what it held before the outage.
 */
export interface OwnRedis {
	url: string;
	/** Writes what Redis holds now to its folder (SAVE), for the next start to load. */
	snapshot(): Promise<void>;
	/** Kills the server at once, as a crash or a lost host would. */
	stop(): Promise<void>;
	/** Starts it again on the same port and folder. */
	start(): Promise<void>;
	/** Stops it and removes its folder. */
	remove(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-'));
	const url = `redis://127.0.0.1:${port}`;
	let server: ChildProcess | null = null;

	const start = async () => {
		server = spawn(
			'redis-server',
			['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
			{ stdio: 'ignore' }
		);
		await answering(url);
	};
	const stop = async () => {
		const running = server;
		server = null;
		if (!running || running.exitCode !== null) return;
		const exited = new Promise((resolve) => running.once('exit', resolve));
		running.kill('SIGKILL');
		await exited;
	};
	const snapshot = async () => {
		const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
		client.on('error', () => undefined);
		try {
			await client.connect();
			await client.save();
		} finally {
			client.disconnect();
		}
	};
	await start();
	return {
		url,
		snapshot,
		stop,
		start,
		remove: async () => {
			await stop();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const address = probe.address();
			probe.close(() =>
				typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
			);
		});
	});
}

/** Resolves once the server answers PING; gives up after a few seconds. */
async function answering(url: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	for (;;) {
		const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
		client.on('error', () => undefined);
		try {
			await client.connect();
			await client.ping();
			return;
		} catch (error) {
			if (Date.now() > deadline) throw error;
			await new Promise((resolve) => setTimeout(resolve, 50));
		} finally {
			client.disconnect();
		}
	}
}
