import { randomUUID } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type SecurityEventRow, type Storage } from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';

/** How long another connection (the CLI, a backup) holds the write lock. */
const HELD_MS = 1000;
/** The longest the event loop may go without running a timer meanwhile. */
const RESPONSIVE_MS = 200;

/** The longest gap between ticks of a 10 ms interval while `work` runs. */
async function longestTickGap<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; gapMs: number }> {
	let last = performance.now();
	let gapMs = 0;
	const ticker = setInterval(() => {
		const now = performance.now();
		gapMs = Math.max(gapMs, now - last);
		last = now;
	}, 10);
	try {
		const [result] = await Promise.allSettled([work()]);
		return { result: result!, gapMs };
	} finally {
		clearInterval(ticker);
	}
}

/** Another connection holding the write lock for `ms`, as `sessions revoke` or a backup would. */
function holdWriteLock(file: string, ms: number): Promise<void> {
	const holder = new Sqlite(file);
	holder.exec('BEGIN IMMEDIATE');
	holder.prepare("INSERT INTO rate_limit_window (key, count, resets_at) VALUES ('held', 1, 0)").run();
	return new Promise((resolve) =>
		setTimeout(() => {
			holder.exec('ROLLBACK');
			holder.close();
			resolve();
		}, ms)
	);
}

describe('SQLite while another connection holds the write lock', () => {
	let scratch: ScratchDatabase;
	let file: string;
	const opened: Storage[] = [];

	beforeAll(async () => {
		scratch = await createScratchDatabase('sqlite');
		if (scratch.target.dialect !== 'sqlite') throw new Error('a SQLite target was expected');
		file = scratch.target.file;
		const storage = openStorage(scratch.target);
		opened.push(storage);
		await storage.migrate();
	});

	afterAll(async () => {
		await Promise.all(opened.map((storage) => storage.close()));
		await scratch?.drop();
	});

	const event = (): SecurityEventRow => ({
		id: randomUUID(),
		userId: 'someone',
		sessionId: null,
		type: 'SIGN_IN',
		createdAt: new Date(),
		ipAddress: null,
		userAgent: null,
		detail: '{}'
	});

	it('a write waits for the lock without freezing the event loop, and succeeds once it is released', async () => {
		const storage = openStorage(scratch.target);
		opened.push(storage);
		const released = holdWriteLock(file, HELD_MS);
		const started = performance.now();

		const { result, gapMs } = await longestTickGap(() => storage.rateLimits.hit('waited', 60_000, Date.now()));
		await released;

		console.log(
			`write under a ${HELD_MS} ms lock: ${result.status} after ${Math.round(performance.now() - started)} ms; longest tick gap ${Math.round(gapMs)} ms`
		);
		expect(result).toEqual({ status: 'fulfilled', value: expect.objectContaining({ count: 1 }) });
		expect(performance.now() - started).toBeGreaterThanOrEqual(HELD_MS - 50);
		expect(gapMs).toBeLessThan(RESPONSIVE_MS);
	});

	it('a write that cannot get the lock in time fails as a database fault (a 503), the event loop free throughout', async () => {
		const storage = openStorage(scratch.target, { lockWaitMs: 300 });
		opened.push(storage);
		const released = holdWriteLock(file, HELD_MS);

		const { result, gapMs } = await longestTickGap(() => storage.securityEvents.record(event()));
		await released;

		expect(result.status).toBe('rejected');
		const reason = (result as PromiseRejectedResult).reason;
		expect(storage.classifyFault(reason)).toMatch(/^the SQLite database is locked by another connection \(SQLITE_BUSY/);
		expect(gapMs).toBeLessThan(RESPONSIVE_MS);
		await expect(storage.securityEvents.record(event())).resolves.toBeUndefined();
	});
});
