import type { Redis } from 'ioredis';
import type { Storage } from './db/port';

export interface RateLimitRule {
	/** Shown in logs and used as the key's namespace. */
	name: string;
	limit: number;
	windowSeconds: number;
}

export interface RateLimitVerdict {
	allowed: boolean;
	retryAfterSeconds: number;
}

const SIGN_IN_WINDOW_SECONDS = 15 * 60;
const DAY_SECONDS = 24 * 3600;

/** Per-IP defaults; an office behind one NAT address may need more (OTP_SEND_LIMIT_PER_IP, OTP_VERIFY_LIMIT_PER_IP). */
export const DEFAULT_PER_ADDRESS_LIMITS = { send: 30, verify: 60 };

/**
 * What a visitor's step (sending a code, trying one) is held to, narrowest first. The per-email
 * ceiling counts every network together over a day: one network's daily cap stays below it,
 * so a single network cannot reach it, and it bounds the code checks an account can suffer
 * in a day from any number of networks. A browser known for the address counts against a
 * ceiling of its own instead, which strangers cannot spend: a tag copied from the owner's
 * browser (a shared computer) is held there too, so the bound stays a sum of the two.
 */
export interface VisitorLimits {
	perEmailAndNetwork: RateLimitRule;
	perEmailAndNetworkDaily: RateLimitRule;
	perNetwork: RateLimitRule;
	perEmailDaily: RateLimitRule;
	perEmailKnownDaily: RateLimitRule;
}

/**
 * What re-authentication of a signed-in user is held to: the counters of the session it comes
 * from only, so a stolen session spending its own cannot hold the owner's other sessions.
 */
export interface ReauthLimits {
	perSession: RateLimitRule;
	perSessionDaily: RateLimitRule;
}

const rule = (name: string, limit: number, windowSeconds: number): RateLimitRule => ({ name, limit, windowSeconds });

/**
 * Published limits for sign-in (README, "Sign-in codes and limits"). Form actions call Better
 * Auth's API directly, which skips Better Auth's own limiter, so these are enforced by the
 * actions themselves.
 */
export function signInLimits(perAddress = DEFAULT_PER_ADDRESS_LIMITS) {
	return {
		sendCode: {
			perEmailAndNetwork: rule('otp-send-email-network', 5, SIGN_IN_WINDOW_SECONDS),
			perEmailAndNetworkDaily: rule('otp-send-email-network-day', 20, DAY_SECONDS),
			perNetwork: rule('otp-send-ip', perAddress.send, SIGN_IN_WINDOW_SECONDS),
			perEmailDaily: rule('otp-send-email-day', 50, DAY_SECONDS),
			perEmailKnownDaily: rule('otp-send-email-known-day', 50, DAY_SECONDS)
		} satisfies VisitorLimits,
		verifyCode: {
			perEmailAndNetwork: rule('otp-verify-email-network', 10, SIGN_IN_WINDOW_SECONDS),
			perEmailAndNetworkDaily: rule('otp-verify-email-network-day', 60, DAY_SECONDS),
			perNetwork: rule('otp-verify-ip', perAddress.verify, SIGN_IN_WINDOW_SECONDS),
			perEmailDaily: rule('otp-verify-email-day', 150, DAY_SECONDS),
			perEmailKnownDaily: rule('otp-verify-email-known-day', 150, DAY_SECONDS)
		} satisfies VisitorLimits,
		reauthSendCode: {
			perSession: rule('reauth-send-session', 5, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('reauth-send-session-day', 50, DAY_SECONDS)
		} satisfies ReauthLimits,
		reauthVerifyCode: {
			perSession: rule('reauth-verify-session', 10, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('reauth-verify-session-day', 150, DAY_SECONDS)
		} satisfies ReauthLimits
	};
}

export type SignInLimits = ReturnType<typeof signInLimits>;

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
