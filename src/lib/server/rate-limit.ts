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

/**
 * Published limits for sign-in. Form actions call Better Auth's API directly, which skips
 * Better Auth's own limiter, so these are enforced by the actions themselves.
 */
export const SIGN_IN_LIMITS = {
	sendCodePerEmail: { name: 'otp-send-email', limit: 5, windowSeconds: 15 * 60 },
	sendCodePerAddress: { name: 'otp-send-ip', limit: 30, windowSeconds: 15 * 60 },
	verifyCodePerEmail: { name: 'otp-verify-email', limit: 10, windowSeconds: 15 * 60 },
	verifyCodePerAddress: { name: 'otp-verify-ip', limit: 60, windowSeconds: 15 * 60 }
} satisfies Record<string, RateLimitRule>;

const SWEEP_THRESHOLD = 10_000;

/** Fixed-window counters in this process's memory. */
export class MemoryRateLimiter {
	#windows = new Map<string, { count: number; resetsAt: number }>();

	constructor(private readonly now: () => number = Date.now) {}

	consume(rule: RateLimitRule, subject: string): RateLimitVerdict {
		const key = `${rule.name}:${subject}`;
		const now = this.now();
		let window = this.#windows.get(key);
		if (!window || window.resetsAt <= now) {
			if (this.#windows.size >= SWEEP_THRESHOLD) this.#sweep(now);
			window = { count: 0, resetsAt: now + rule.windowSeconds * 1000 };
			this.#windows.set(key, window);
		}
		window.count += 1;
		const allowed = window.count <= rule.limit;
		return { allowed, retryAfterSeconds: allowed ? 0 : Math.ceil((window.resetsAt - now) / 1000) };
	}

	#sweep(now: number): void {
		for (const [key, window] of this.#windows) if (window.resetsAt <= now) this.#windows.delete(key);
	}
}

/** Checks every rule (each counts the attempt) and returns the most restrictive verdict. */
export function consumeAll(limiter: MemoryRateLimiter, checks: Array<[RateLimitRule, string]>): RateLimitVerdict {
	const verdicts = checks.map(([rule, subject]) => limiter.consume(rule, subject));
	const refused = verdicts.filter((verdict) => !verdict.allowed);
	if (refused.length === 0) return { allowed: true, retryAfterSeconds: 0 };
	return { allowed: false, retryAfterSeconds: Math.max(...refused.map((verdict) => verdict.retryAfterSeconds)) };
}

export const rateLimiter = new MemoryRateLimiter();
