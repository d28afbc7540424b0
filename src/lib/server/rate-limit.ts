import type { Redis } from 'ioredis';
import type { Storage } from './db/port';
import type { RateLimitRule } from './rate-limit-rules';

export {
	DEFAULT_PER_ADDRESS_LIMITS,
	signInLimits,
	type ReauthLimits,
	type RateLimitRule,
	type SignInLimits,
	type VisitorLimits
} from './rate-limit-rules';

export interface RateLimitVerdict {
	allowed: boolean;
	retryAfterSeconds: number;
}

/** Fixed-window counters: memory for one process, or shared by every instance (database or Redis). */
export interface RateLimiter {
	consume(rule: RateLimitRule, subject: string): Promise<RateLimitVerdict>;
}

function verdict(count: number, limit: number, resetsAt: number, now: number): RateLimitVerdict {
	const allowed = count <= limit;
	return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetsAt - now) / 1000)) };
}

const SWEEP_THRESHOLD = 10_000;

/** Counters in this process's memory: for a single instance, and for tests. */
export class MemoryRateLimiter implements RateLimiter {
	#windows = new Map<string, { count: number; resetsAt: number }>();

	constructor(private readonly now: () => number = Date.now) {}

	async consume(rule: RateLimitRule, subject: string): Promise<RateLimitVerdict> {
		const key = `${rule.name}:${subject}`;
		const now = this.now();
		let window = this.#windows.get(key);
		if (!window || window.resetsAt <= now) {
			if (this.#windows.size >= SWEEP_THRESHOLD) this.#sweep(now);
			window = { count: 0, resetsAt: now + rule.windowSeconds * 1000 };
			this.#windows.set(key, window);
		}
		window.count += 1;
		return verdict(window.count, rule.limit, window.resetsAt, now);
	}

	#sweep(now: number): void {
		for (const [key, window] of this.#windows) if (window.resetsAt <= now) this.#windows.delete(key);
	}
}

/**
 * Counters in Redis, shared by every instance: INCR, and the window's expiry set by the
 * first attempt only (NX), so later attempts do not stretch it.
 */
export function redisRateLimiter(redis: Redis, now: () => number = Date.now): RateLimiter {
	return {
		async consume(rule, subject) {
			const key = `latchkey:rate:${rule.name}:${subject}`;
			const results = await redis
				.multi()
				.incr(key)
				.pexpire(key, rule.windowSeconds * 1000, 'NX')
				.pttl(key)
				.exec();
			if (!results || results.some(([error]) => error)) throw new Error('redis rate limit transaction failed');
			const count = Number(results[0]![1]);
			const remainingMs = Number(results[2]![1]);
			return verdict(count, rule.limit, now() + Math.max(remainingMs, 0), now());
		}
	};
}

/**
 * Counters in the database, shared by every instance, for deployments without Redis: one
 * atomic upsert per attempt that starts a new window when the old one has passed.
 */
export function databaseRateLimiter(database: Storage, now: () => number = Date.now): RateLimiter {
	return {
		async consume(rule, subject) {
			const at = now();
			const window = await database.rateLimits.hit(`${rule.name}:${subject}`, rule.windowSeconds * 1000, at);
			return verdict(window.count, rule.limit, window.resetsAt, at);
		}
	};
}

/**
 * Counts the attempt against each rule in turn, narrowest first, and stops at the first that
 * refuses: a refused attempt uses up nothing wider (a stranger held by a network's limit never
 * spends the address's ceiling).
 */
export async function consumeInOrder(
	limiter: RateLimiter,
	checks: Array<[RateLimitRule, string]>
): Promise<RateLimitVerdict> {
	for (const [checked, subject] of checks) {
		const counted = await limiter.consume(checked, subject);
		if (!counted.allowed) return counted;
	}
	return { allowed: true, retryAfterSeconds: 0 };
}
