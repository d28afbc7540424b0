import { randomUUID } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type SecurityEventRow, type Storage } from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from './support/databases';

/** Another connection holding the write lock, as `sessions revoke` or a backup would, until released. */
function holdWriteLock(file: string): { release(): void } {
	const holder = new Sqlite(file);
	holder.exec('BEGIN IMMEDIATE');
	holder.prepare("INSERT INTO rate_limit_window (key, count, resets_at) VALUES ('held', 1, 0)").run();
	return {
		release() {
			if (!holder.open) return;
			holder.exec('ROLLBACK');
			holder.close();
		}
	};
}

/**
 * Counts the turns a chain of timers gets while `pending` is unsettled. A write that blocked the
 * event loop for its whole wait would settle before any of them ran: the count says whether the
 * loop was free, whatever the machine's speed.
 */
async function timerTurnsWhile(pending: Promise<unknown>, onTurn: (turns: number) => void = () => {}): Promise<number> {
	let settled = false;
	const done = pending.then(
		() => (settled = true),
		() => (settled = true)
	);
	let turns = 0;
	await new Promise<void>((resolve) => {
		const turn = () => {
			if (settled) return resolve();
			onTurn(++turns);
			setTimeout(turn, 1);
		};
		setTimeout(turn, 1);
	});
	await done;
	return turns;
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
		const lock = holdWriteLock(file);
		let settledBeforeRelease: boolean | undefined;
		const write = storage.rateLimits.hit('waited', 60_000, Date.now());
		const outcome = write.then(
			(value) => ({ status: 'fulfilled', value }),
			(reason: unknown) => ({ status: 'rejected', reason })
		);
		let settled = false;
		void outcome.then(() => (settled = true));

		// Released from a timer: it runs only while the write waits off the event loop; a write
		// that blocked the loop until its wait ran out would fail first.
		await timerTurnsWhile(outcome, (turns) => {
			if (turns !== 5) return;
			settledBeforeRelease = settled;
			lock.release();
		});
		lock.release();

		expect(settledBeforeRelease).toBe(false);
		expect(await outcome).toEqual({ status: 'fulfilled', value: expect.objectContaining({ count: 1 }) });
	});

	it('a write that cannot get the lock in time fails as a database fault (a 503), the event loop free throughout', async () => {
		const storage = openStorage(scratch.target, { lockWaitMs: 300 });
		opened.push(storage);
		const lock = holdWriteLock(file);

		const write = storage.securityEvents.record(event());
		const [turns, [result]] = await Promise.all([timerTurnsWhile(write), Promise.allSettled([write])]);
		lock.release();

		expect(result!.status).toBe('rejected');
		const reason = (result as PromiseRejectedResult).reason;
		expect(storage.classifyFault(reason)).toMatch(/^the SQLite database is locked by another connection \(SQLITE_BUSY/);
		// Every pause between tries lets the timers run; a wait spent blocking the loop lets none.
		expect(turns).toBeGreaterThanOrEqual(3);
		await expect(storage.securityEvents.record(event())).resolves.toBeUndefined();
	});
});
