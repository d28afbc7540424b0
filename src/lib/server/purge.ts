import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberedPlaceholders, returnedRow, type Database } from './db';
import { safeErrorMessage } from './errors';

export interface PurgeOptions {
	/** Rows per DELETE; on SQLite at most this, fewer when a batch takes longer than BATCH_BUDGET_MS. */
	batchSize: number;
	/** Pause between batches, leaving the database to requests. */
	pauseMs: number;
	now?: () => number;
}

export interface PurgeResult {
	sessions: number;
	batches: number;
	/** Expired sign-in codes and finished rate-limit windows removed on the way. */
	other: number;
}

/**
 * How long one DELETE may take on SQLite. better-sqlite3 runs it on the event loop, so every
 * request arriving meanwhile waits: a few milliseconds keep the purge out of the requests' p99.
 * (PostgreSQL's DELETE does not hold the event loop; its batches keep PURGE_BATCH_SIZE.)
 */
const BATCH_BUDGET_MS = 4;
/** The smallest batch the budget can shrink to, so a slow disk still makes progress. */
const MIN_BATCH = 50;

/**
 * Deletes expired sessions in batches. A session past its absolute lifetime is also past its
 * expiresAt (the validator never slides expiresAt beyond it), so one indexed condition finds both.
 */
export async function purgeExpiredSessions(database: Database, options: PurgeOptions): Promise<PurgeResult> {
	const now = options.now ?? Date.now;
	let sessions = 0;
	let batches = 0;
	// SQLite starts small and grows while batches stay within the budget.
	let batchSize = database.dialect === 'sqlite' ? Math.min(options.batchSize, MIN_BATCH) : options.batchSize;
	for (;;) {
		const started = performance.now();
		const deleted = await run(
			database,
			'DELETE FROM session WHERE id IN (SELECT id FROM session WHERE expires_at < ? LIMIT ?)',
			[timestamp(database, now()), batchSize]
		);
		sessions += deleted;
		batches += 1;
		if (deleted < batchSize) break;
		if (database.dialect === 'sqlite')
			batchSize = resizedBatch(batchSize, performance.now() - started, options.batchSize);
		await sleep(options.pauseMs);
	}
	const at = now();
	const other =
		(await run(database, 'DELETE FROM verification WHERE expires_at < ?', [timestamp(database, at)])) +
		(await run(database, 'DELETE FROM rate_limit_window WHERE resets_at < ?', [at])) +
		(await run(database, 'DELETE FROM rate_limit WHERE last_request < ?', [at - 24 * 3600 * 1000]));
	return { sessions, batches, other };
}

/** The batch size that would have taken BATCH_BUDGET_MS, changed by at most half or double per batch. */
function resizedBatch(size: number, elapsedMs: number, maxSize: number): number {
	const fitting = size * (BATCH_BUDGET_MS / Math.max(elapsedMs, 0.01));
	const bounded = Math.min(size * 2, Math.max(size / 2, fitting));
	return Math.round(Math.min(maxSize, Math.max(Math.min(MIN_BATCH, maxSize), bounded)));
}

/** SQLite stores timestamps as epoch milliseconds, PostgreSQL as timestamptz. */
function timestamp(database: Database, ms: number): number | Date {
	return database.dialect === 'sqlite' ? ms : new Date(ms);
}

async function run(database: Database, sql: string, values: unknown[]): Promise<number> {
	if (database.dialect === 'sqlite') return database.client.prepare(sql).run(...values).changes;
	return (await database.client.query(numberedPlaceholders(sql), values)).rowCount ?? 0;
}

/**
 * A lease in the database so that one instance at a time runs a job: taken when free or
 * expired (a crashed holder cannot block the others for longer than its lease).
 */
export async function acquireLease(database: Database, name: string, holder: string, ttlMs: number, now = Date.now()) {
	const sql = `
		INSERT INTO job_lease (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_lease.expires_at < ? OR job_lease.holder = excluded.holder
		RETURNING holder`;
	const values = [name, holder, now + ttlMs, now];
	const row =
		database.dialect === 'sqlite'
			? returnedRow(database.client.prepare<unknown[], { holder: string }>(sql), ...values)
			: (await database.client.query<{ holder: string }>(numberedPlaceholders(sql), values)).rows[0];
	return row?.holder === holder;
}

export async function releaseLease(database: Database, name: string, holder: string): Promise<void> {
	await run(database, 'DELETE FROM job_lease WHERE name = ? AND holder = ?', [name, holder]);
}

const LEASE = 'purge-expired-sessions';
const LEASE_MS = 10 * 60 * 1000;

/** Runs the purge every `intervalSeconds`, on whichever instance holds the lease; returns a stop function. */
export function schedulePurge(
	database: Database,
	{ intervalSeconds, batchSize }: { intervalSeconds: number; batchSize: number },
	log: (line: string) => void = (line) => console.log(line)
): () => void {
	const holder = randomUUID();
	let running = false;
	const purgeOnce = async () => {
		// The lease keeps other instances out; this keeps a slow purge from overlapping its own next tick.
		if (running || !(await acquireLease(database, LEASE, holder, LEASE_MS))) return;
		running = true;
		const started = Date.now();
		try {
			const result = await purgeExpiredSessions(database, { batchSize, pauseMs: 20 });
			log(
				JSON.stringify({
					time: new Date().toISOString(),
					level: 'info',
					event: 'sessions.purged',
					...result,
					ms: Date.now() - started
				})
			);
		} finally {
			running = false;
			await releaseLease(database, LEASE, holder);
		}
	};
	const timer = setInterval(() => {
		purgeOnce().catch((error: unknown) => console.error(`latchkey: purge failed: ${safeErrorMessage(error)}`));
	}, intervalSeconds * 1000);
	// The purge never keeps the process alive on its own.
	timer.unref();
	return () => clearInterval(timer);
}
