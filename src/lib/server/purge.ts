import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from './db/port';
import { safeErrorMessage } from './errors';

export interface PurgeOptions {
	/** Rows per DELETE; on an engine that runs on the event loop at most this, fewer when a batch takes longer than BATCH_BUDGET_MS. */
	batchSize: number;
	/** Pause between batches, leaving the database to requests. */
	pauseMs: number;
	now?: () => number;
}

export interface PurgeResult {
	sessions: number;
	batches: number;
	/** Expired sign-in codes, finished rate-limit windows and expired ending reasons removed on the way. */
	other: number;
}

/**
 * How long one DELETE may take on an engine that runs statements on the event loop
 * (Storage.runsOnEventLoop): every request arriving meanwhile waits, and a few milliseconds keep
 * the purge out of the requests' p99. (A server engine's DELETE does not hold the event loop;
 * its batches keep PURGE_BATCH_SIZE.) See docs/decisions/0008-purge-batches-sized-to-the-event-loop.md.
 */
const BATCH_BUDGET_MS = 4;
/** The smallest batch the budget can shrink to, so a slow disk still makes progress. */
const MIN_BATCH = 50;

/**
 * Deletes expired sessions in batches. A session past its absolute lifetime is also past its
 * expiresAt (the validator never slides expiresAt beyond it), so one indexed condition finds both.
 */
export async function purgeExpiredSessions(database: Storage, options: PurgeOptions): Promise<PurgeResult> {
	const now = options.now ?? Date.now;
	let sessions = 0;
	let batches = 0;
	// On the event loop it starts small and grows while batches stay within the budget.
	const budgeted = database.runsOnEventLoop;
	let batchSize = budgeted ? Math.min(options.batchSize, MIN_BATCH) : options.batchSize;
	for (;;) {
		const started = performance.now();
		const deleted = await database.purge.expiredSessions(now(), batchSize);
		sessions += deleted;
		batches += 1;
		if (deleted < batchSize) break;
		if (budgeted) batchSize = resizedBatch(batchSize, performance.now() - started, options.batchSize);
		await sleep(options.pauseMs);
	}
	const other = await database.purge.expiredOther(now());
	return { sessions, batches, other };
}

/** The batch size that would have taken BATCH_BUDGET_MS, changed by at most half or double per batch. */
function resizedBatch(size: number, elapsedMs: number, maxSize: number): number {
	const fitting = size * (BATCH_BUDGET_MS / Math.max(elapsedMs, 0.01));
	const bounded = Math.min(size * 2, Math.max(size / 2, fitting));
	return Math.round(Math.min(maxSize, Math.max(Math.min(MIN_BATCH, maxSize), bounded)));
}

/**
 * A lease in the database so that one instance at a time runs a job: taken when free or
 * expired (a crashed holder cannot block the others for longer than its lease).
 */
export async function acquireLease(database: Storage, name: string, holder: string, ttlMs: number, now = Date.now()) {
	return database.purge.acquireLease(name, holder, ttlMs, now);
}

export async function releaseLease(database: Storage, name: string, holder: string): Promise<void> {
	await database.purge.releaseLease(name, holder);
}

const LEASE = 'purge-expired-sessions';
const LEASE_MS = 10 * 60 * 1000;

/** Runs the purge every `intervalSeconds`, on whichever instance holds the lease; returns a stop function. */
export function schedulePurge(
	database: Storage,
	{ intervalSeconds, batchSize }: { intervalSeconds: number; batchSize: number },
	log: (line: string) => void = (line) => console.log(line)
): () => void {
	const holder = randomUUID();
	let running = false;
	const purgeOnce = async () => {
		// The lease keeps other instances out; `running` keeps this instance's next ticks out, from
		// before the lease is asked for: a lease that waits for a locked database would otherwise
		// let every tick meanwhile through, and their purges would run at once (the lease is this
		// holder's for each of them) and leave no time between batches for requests.
		if (running) return;
		running = true;
		try {
			if (!(await acquireLease(database, LEASE, holder, LEASE_MS))) return;
			try {
				log(purgedLine(await timed(() => purgeExpiredSessions(database, { batchSize, pauseMs: 20 }))));
			} finally {
				await releaseLease(database, LEASE, holder);
			}
		} finally {
			running = false;
		}
	};
	const timer = setInterval(() => {
		purgeOnce().catch((error: unknown) => console.error(`latchkey: purge failed: ${safeErrorMessage(error)}`));
	}, intervalSeconds * 1000);
	// The purge never keeps the process alive on its own.
	timer.unref();
	return () => clearInterval(timer);
}

async function timed<T>(work: () => Promise<T>): Promise<T & { ms: number }> {
	const started = Date.now();
	const result = await work();
	return { ...result, ms: Date.now() - started };
}

function purgedLine(result: PurgeResult & { ms: number }): string {
	return JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'sessions.purged', ...result });
}
