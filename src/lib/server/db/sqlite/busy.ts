import { setTimeout as sleep } from 'node:timers/promises';
import type Sqlite from 'better-sqlite3';
import { isBusy } from './faults';

/** The first pause after a write found the database locked, and the longest; doubled in between. */
const FIRST_PAUSE_MS = 5;
const LONGEST_PAUSE_MS = 100;

/**
 * Runs `write` (synchronous, as better-sqlite3 is) and, while another connection holds the
 * write lock, tries again after a pause that frees the event loop, for up to `lockWaitMs` in
 * all. The first try blocks the event loop for at most the connection's short busy timeout, so
 * that a lock about to be released costs no pause; the tries after it, given `connection`, do
 * not wait at all, so that many writes waiting together leave the event loop to the other
 * requests. Past the wait the lock's error is thrown: a fault the request answers with 503.
 * `write` must be all or nothing (one statement, or one transaction), so trying it again is safe.
 */
export async function whileLocked<T>(
	write: () => T,
	lockWaitMs: number,
	connection?: Pick<Sqlite.Database, 'pragma'>
): Promise<T> {
	const deadline = performance.now() + lockWaitMs;
	let again = (): T => write();
	for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
		try {
			return again();
		} catch (error) {
			if (!isBusy(error) || performance.now() + pause > deadline) throw error;
			if (connection) again = () => withoutBusyWait(connection, write);
			await sleep(pause);
		}
	}
}

/** Runs `write` with the connection's busy timeout at 0: locked, it fails at once. */
function withoutBusyWait<T>(connection: Pick<Sqlite.Database, 'pragma'>, write: () => T): T {
	const busyTimeout = connection.pragma('busy_timeout', { simple: true });
	connection.pragma('busy_timeout = 0');
	try {
		return write();
	} finally {
		connection.pragma(`busy_timeout = ${Number(busyTimeout)}`);
	}
}
