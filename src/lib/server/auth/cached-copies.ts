import { redisStorage } from '@better-auth/redis-storage';
import type { BetterAuthOptions } from 'better-auth';
import type { Redis } from 'ioredis';
import type { EndedSession } from '../db/port';
import { safeErrorMessage } from '../errors';

/**
 * Better Auth's Redis copy of ended sessions (with REDIS_URL), cleared after their rows are
 * deleted (sessions.ts). A cache that cannot be reached never fails a revocation: the clear is
 * logged (never with a token) and retried until it succeeds, and a copy left behind expires
 * with its TTL (the session's expiresAt).
 */

/** Better Auth's secondary storage (redisStorage with REDIS_URL), as its context holds it. */
export type SecondaryStorage = NonNullable<BetterAuthOptions['secondaryStorage']>;

const byClient = new WeakMap<Redis, SecondaryStorage>();

/**
 * Better Auth's secondary storage on this Redis client (REDIS_URL): one per client, so the
 * Better Auth instance that writes the copies and the revocations that clear them share it.
 */
export function secondaryStorageOf(redis: Redis): SecondaryStorage {
	let cache = byClient.get(redis);
	if (!cache) {
		cache = redisStorage({ client: redis, keyPrefix: 'latchkey:auth:' });
		byClient.set(redis, cache);
	}
	return cache;
}

/** How long a revocation waits for the cache before answering anyway (the clear goes on). */
const CACHE_WAIT_MS = 1000;

/**
 * Removes the copies Better Auth keeps per session (key: the token) and their entries in the
 * user's `active-sessions-<userId>` list, as its own deleteSession does; otherwise its
 * findSession would go on returning them from the cache. Never throws.
 */
export async function clearCachedCopies(
	cache: SecondaryStorage | null | undefined,
	ended: EndedSession[]
): Promise<void> {
	if (!cache || ended.length === 0) return;
	let timer: NodeJS.Timeout | undefined;
	const waited = new Promise((resolve) => (timer = setTimeout(resolve, CACHE_WAIT_MS)));
	await Promise.race([pendingClearsOf(cache).clear(ended), waited]);
	clearTimeout(timer);
}

/** How often clears that failed are tried again while the cache is unreachable. */
export const CACHE_RETRY_MS = 5000;
/** Enough for any outage's revocations; beyond it the oldest are left to their TTL. */
const MAX_PENDING = 10_000;

/** What identifies a session's cached copy: its token, and its owner for the user's list. */
type CachedCopy = Pick<EndedSession, 'token' | 'userId'>;

const pendingByCache = new WeakMap<SecondaryStorage, PendingClears>();

function pendingClearsOf(cache: SecondaryStorage): PendingClears {
	let pending = pendingByCache.get(cache);
	if (!pending) {
		pending = new PendingClears(cache);
		pendingByCache.set(cache, pending);
	}
	return pending;
}

/** The cached copies still to clear, per cache (so per Better Auth instance), and their retry. */
class PendingClears {
	readonly #cache: SecondaryStorage;
	/** token → user id: the tokens stay in memory only, never in a log line. */
	readonly #waiting = new Map<string, string>();
	#retry: NodeJS.Timeout | null = null;
	#failing = false;

	constructor(cache: SecondaryStorage) {
		this.#cache = cache;
	}

	/** Clears these copies now; any that fail wait for the next retry. */
	async clear(copies: CachedCopy[]): Promise<void> {
		const failed = await this.#attempt(copies);
		if (failed.length > 0) this.#keep(failed);
	}

	async #attempt(copies: CachedCopy[]): Promise<CachedCopy[]> {
		const failed: CachedCopy[] = [];
		for (const [userId, tokens] of tokensByUser(copies)) {
			try {
				await removeCachedSessions(this.#cache, userId, tokens);
			} catch (error) {
				failed.push(...tokens.map((token) => ({ token, userId })));
				this.#reportFailure(error);
			}
		}
		return failed;
	}

	/** Once per outage: every revocation meanwhile fails the same way. */
	#reportFailure(error: unknown): void {
		if (this.#failing) return;
		this.#failing = true;
		console.error(
			`latchkey: redis: could not clear the cached copy of an ended session (${safeErrorMessage(error)}); ` +
				`the database already refuses it; retrying every ${CACHE_RETRY_MS / 1000} s until Redis answers`
		);
	}

	#keep(failed: CachedCopy[]): void {
		for (const { token, userId } of failed) {
			if (this.#waiting.size >= MAX_PENDING) this.#waiting.delete(this.#waiting.keys().next().value!);
			this.#waiting.set(token, userId);
		}
		if (!this.#retry) this.#retry = setTimeout(() => void this.#retryWaiting(), CACHE_RETRY_MS).unref();
	}

	async #retryWaiting(): Promise<void> {
		const waiting = [...this.#waiting].map(([token, userId]) => ({ token, userId }));
		this.#waiting.clear();
		this.#retry = null;
		const failed = await this.#attempt(waiting);
		if (failed.length > 0) {
			this.#keep(failed);
			return;
		}
		if (this.#failing) {
			this.#failing = false;
			console.error(`latchkey: redis: answers again; cleared the cached copies of ${waiting.length} ended session(s)`);
		}
	}
}

function tokensByUser(copies: CachedCopy[]): Map<string, string[]> {
	const byUser = new Map<string, string[]>();
	for (const { token, userId } of copies) byUser.set(userId, [...(byUser.get(userId) ?? []), token]);
	return byUser;
}

/** One entry of Better Auth's `active-sessions-<userId>` list. */
interface SessionReference {
	token: string;
	expiresAt: number;
}

/** Better Auth's keys (better-auth/dist/db/internal-adapter.mjs): the token, and the user's list. */
async function removeCachedSessions(cache: SecondaryStorage, userId: string, tokens: string[]): Promise<void> {
	await Promise.all(tokens.map((token) => cache.delete(token)));
	const listKey = `active-sessions-${userId}`;
	const stored = await cache.get(listKey);
	if (!stored) return;
	const gone = new Set(tokens);
	const now = Date.now();
	const remaining = parseReferences(stored)
		.filter((reference) => reference.expiresAt > now && !gone.has(reference.token))
		.sort((a, b) => a.expiresAt - b.expiresAt);
	// The list lives as long as its longest-lived session, as Better Auth sets it.
	const ttlSeconds = Math.floor(((remaining.at(-1)?.expiresAt ?? 0) - now) / 1000);
	if (ttlSeconds > 0) await cache.set(listKey, JSON.stringify(remaining), ttlSeconds);
	else await cache.delete(listKey);
}

function parseReferences(stored: unknown): SessionReference[] {
	try {
		const value: unknown = typeof stored === 'string' ? JSON.parse(stored) : stored;
		return Array.isArray(value) ? (value as SessionReference[]) : [];
	} catch {
		return [];
	}
}

/**
 * Drops Better Auth's copy of a session that goes on, after its user's address changed: the copy
 * holds the user as it was, and without it Better Auth reads session and user from the
 * database (storeSessionInDatabase). The session stays in the user's `active-sessions` list. A
 * cache that cannot be reached is logged and left to the copy's TTL: Latchkey's validator reads
 * the database, so the old address only lingers in Better Auth's own reads. Never throws.
 */
export async function forgetCachedUser(cache: SecondaryStorage | null | undefined, token: string): Promise<void> {
	if (!cache) return;
	let timer: NodeJS.Timeout | undefined;
	const waited = new Promise((resolve) => (timer = setTimeout(resolve, CACHE_WAIT_MS)));
	const dropped = Promise.resolve()
		.then(() => cache.delete(token))
		.catch((error: unknown) =>
			console.error(`latchkey: redis: could not drop a session's cached user (${safeErrorMessage(error)})`)
		);
	await Promise.race([dropped, waited]);
	clearTimeout(timer);
}
