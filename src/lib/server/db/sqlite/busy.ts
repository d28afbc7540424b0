import { setTimeout as sleep } from 'node:timers/promises';
import { isBusy } from './faults';

/** The first pause after a write found the database locked, and the longest; doubled in between. */
const FIRST_PAUSE_MS = 5;
const LONGEST_PAUSE_MS = 100;

/**
 * Runs `write` (synchronous, as better-sqlite3 is) and, while another connection holds the
 * write lock, tries again after a pause that frees the event loop, for up to `lockWaitMs` in
 * all. Each try blocks the event loop for at most the connection's short busy timeout. Past
 * the wait the lock's error is thrown: a fault the request answers with 503. `write` must be
 * all or nothing (one statement, or one transaction), so trying it again is safe.
 */
export async function whileLocked<T>(write: () => T, lockWaitMs: number): Promise<T> {
	const deadline = performance.now() + lockWaitMs;
	for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
		try {
			return write();
		} catch (error) {
			if (!isBusy(error) || performance.now() + pause > deadline) throw error;
			await sleep(pause);
		}
	}
}
