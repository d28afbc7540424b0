import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Storage } from './db/port';
import { schedulePurge } from './purge';

/** A storage whose lease waits until `grantLease` is called, as it does while another connection holds the write lock. */
function storageWithSlowLease() {
	let grant: (granted: boolean) => void = () => {};
	const purge = {
		acquireLease: vi.fn(() => new Promise<boolean>((resolve) => (grant = resolve))),
		releaseLease: vi.fn(async () => {}),
		expiredSessions: vi.fn(async () => 0),
		expiredOther: vi.fn(async () => 0)
	};
	const storage = { runsOnEventLoop: true, purge } as unknown as Storage;
	return { storage, purge, grantLease: (granted = true) => grant(granted) };
}

describe('schedulePurge', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	it('lets no tick through while an earlier one still waits for the lease', async () => {
		const { storage, purge, grantLease } = storageWithSlowLease();
		const lines: string[] = [];
		const stop = schedulePurge(storage, { intervalSeconds: 1, batchSize: 100 }, (line) => lines.push(line));
		await vi.advanceTimersByTimeAsync(5_000);
		expect(purge.acquireLease).toHaveBeenCalledTimes(1);

		grantLease();
		await vi.advanceTimersByTimeAsync(0);
		expect(purge.expiredSessions).toHaveBeenCalledTimes(1);
		expect(purge.releaseLease).toHaveBeenCalledTimes(1);
		expect(lines).toHaveLength(1);
		expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'sessions.purged', sessions: 0, batches: 1 });

		// Finished: the next tick asks for the lease again.
		await vi.advanceTimersByTimeAsync(1_000);
		expect(purge.acquireLease).toHaveBeenCalledTimes(2);
		stop();
	});

	it('asks again on the next tick when another instance holds the lease', async () => {
		const { storage, purge, grantLease } = storageWithSlowLease();
		const stop = schedulePurge(storage, { intervalSeconds: 1, batchSize: 100 }, () => {});
		await vi.advanceTimersByTimeAsync(1_000);
		grantLease(false);
		await vi.advanceTimersByTimeAsync(0);
		expect(purge.expiredSessions).not.toHaveBeenCalled();
		expect(purge.releaseLease).not.toHaveBeenCalled();

		await vi.advanceTimersByTimeAsync(1_000);
		expect(purge.acquireLease).toHaveBeenCalledTimes(2);
		stop();
	});
});
