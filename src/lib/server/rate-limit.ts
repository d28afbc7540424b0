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

/** Per-IP defaults; an office behind one NAT address may need more (OTP_SEND_LIMIT_PER_IP, OTP_VERIFY_LIMIT_PER_IP). */
export const DEFAULT_PER_ADDRESS_LIMITS = { send: 30, verify: 60 };

/**
 * Published limits for sign-in, per 15 minutes. Form actions call Better Auth's API directly,
 * which skips Better Auth's own limiter, so these are enforced by the actions themselves.
 */
export function signInLimits(perAddress = DEFAULT_PER_ADDRESS_LIMITS) {
	const rule = (name: string, limit: number): RateLimitRule => ({ name, limit, windowSeconds: SIGN_IN_WINDOW_SECONDS });
	return {
		sendCodePerEmail: rule('otp-send-email', 5),
		sendCodePerAddress: rule('otp-send-ip', perAddress.send),
		verifyCodePerEmail: rule('otp-verify-email', 10),
		verifyCodePerAddress: rule('otp-verify-ip', perAddress.verify)
	};
}

export type SignInLimits = ReturnType<typeof signInLimits>;

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
