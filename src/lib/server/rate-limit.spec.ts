import { describe, expect, it } from 'vitest';
import {
	consumeInOrder,
	MemoryRateLimiter,
	signInLimits,
	type RateLimitRule,
	type RateLimitVerdict
} from './rate-limit';

const RULE: RateLimitRule = { name: 'test-rule', limit: 3, windowSeconds: 60 };
const OTHER_RULE: RateLimitRule = { name: 'other-rule', limit: 3, windowSeconds: 60 };
const ALLOWED = { allowed: true, retryAfterSeconds: 0 };

/** A limiter on a clock the test moves by hand, starting at an arbitrary instant. */
function limiterWithClock() {
	const clock = { now: 1_700_000_000_000 };
	const limiter = new MemoryRateLimiter(() => clock.now);
	const advance = (ms: number) => {
		clock.now += ms;
	};
	return { limiter, advance };
}

/** Consumes `times` attempts one after another, each awaited before the next. */
async function consumeTimes(
	limiter: MemoryRateLimiter,
	rule: RateLimitRule,
	subject: string,
	times: number
): Promise<RateLimitVerdict[]> {
	const verdicts: RateLimitVerdict[] = [];
	for (let i = 0; i < times; i++) verdicts.push(await limiter.consume(rule, subject));
	return verdicts;
}

describe('MemoryRateLimiter', () => {
	it('allows exactly `limit` attempts in a window', async () => {
		const { limiter } = limiterWithClock();

		expect(await consumeTimes(limiter, RULE, 'a@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 60 });
	});

	it('tells how long until the window ends, rounded up to whole seconds', async () => {
		const { limiter, advance } = limiterWithClock();
		await consumeTimes(limiter, RULE, 'a@example.com', 3);

		advance(20_000);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 40 });
		advance(500);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 40 });
		advance(39_499);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 1 });
	});

	it('opens again once the window has passed, with a fresh count', async () => {
		const { limiter, advance } = limiterWithClock();
		await consumeTimes(limiter, RULE, 'a@example.com', 4);

		advance(60_000);
		expect(await consumeTimes(limiter, RULE, 'a@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 60 });
	});

	it('keeps a window fixed: attempts late in a window do not extend it', async () => {
		const { limiter, advance } = limiterWithClock();
		await limiter.consume(RULE, 'a@example.com');
		advance(59_000);
		await consumeTimes(limiter, RULE, 'a@example.com', 2);

		expect(await limiter.consume(RULE, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 1 });
		advance(1_000);
		expect(await limiter.consume(RULE, 'a@example.com')).toEqual(ALLOWED);
	});

	it('counts each subject separately', async () => {
		const { limiter } = limiterWithClock();
		await consumeTimes(limiter, RULE, 'a@example.com', 4);

		expect(await limiter.consume(RULE, 'b@example.com')).toEqual(ALLOWED);
		expect((await limiter.consume(RULE, 'a@example.com')).allowed).toBe(false);
	});

	it('counts each rule separately for the same subject', async () => {
		const { limiter } = limiterWithClock();
		await consumeTimes(limiter, RULE, 'a@example.com', 4);

		expect(await consumeTimes(limiter, OTHER_RULE, 'a@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expect((await limiter.consume(OTHER_RULE, 'a@example.com')).allowed).toBe(false);
	});

	it('applies the published sign-in limits', async () => {
		const { limiter } = limiterWithClock();
		const rule = signInLimits().sendCode.perEmailAndNetwork;

		expect((await consumeTimes(limiter, rule, 'a@example.com', 5)).every((verdict) => verdict.allowed)).toBe(true);
		expect(await limiter.consume(rule, 'a@example.com')).toEqual({ allowed: false, retryAfterSeconds: 15 * 60 });
	});

	it('takes the per-address limits it is given and keeps the per-email ones', () => {
		const limits = signInLimits({ send: 300, verify: 600 });
		expect(limits.sendCode.perNetwork).toEqual({ name: 'otp-send-ip', limit: 300, windowSeconds: 900 });
		expect(limits.verifyCode.perNetwork).toEqual({ name: 'otp-verify-ip', limit: 600, windowSeconds: 900 });
		expect(limits.sendCode.perEmailAndNetwork.limit).toBe(5);
		expect(limits.verifyCode.perEmailAndNetwork.limit).toBe(10);
		expect(signInLimits().sendCode.perNetwork.limit).toBe(30);
		expect(signInLimits().verifyCode.perNetwork.limit).toBe(60);
	});

	it("keeps the per-email daily ceiling out of one network's reach, and bounds it as docs/CONFIGURATION.md states", () => {
		const DAY = 24 * 3600;
		for (const { perEmailAndNetwork, perEmailAndNetworkDaily, perEmailDaily } of [
			signInLimits().sendCode,
			signInLimits().verifyCode
		]) {
			expect(perEmailAndNetwork.windowSeconds).toBe(15 * 60);
			expect(perEmailAndNetworkDaily.windowSeconds).toBe(DAY);
			expect(perEmailDaily.windowSeconds).toBe(DAY);
			expect(perEmailAndNetworkDaily.limit).toBeLessThan(perEmailDaily.limit);
		}
		const { verifyCode, sendCode } = signInLimits();
		expect([sendCode.perEmailAndNetworkDaily.limit, sendCode.perEmailDaily.limit]).toEqual([20, 50]);
		expect([verifyCode.perEmailAndNetworkDaily.limit, verifyCode.perEmailDaily.limit]).toEqual([60, 150]);
		// A single rule of 10 per 15 minutes from anywhere would allow 960 a day
		// (docs/decisions/0010-sign-in-limits-narrowest-first.md). A known-device cookie copied
		// from the owner's browser reaches the known browsers' own ceiling too.
		expect(verifyCode.perEmailDaily.limit + verifyCode.perEmailKnownDaily.limit).toBeLessThanOrEqual(10 * 96);
		for (const { perEmailAndNetworkDaily, perEmailKnownDaily } of [sendCode, verifyCode]) {
			expect(perEmailKnownDaily.windowSeconds).toBe(DAY);
			expect(perEmailAndNetworkDaily.limit).toBeLessThan(perEmailKnownDaily.limit);
		}
		expect([sendCode.perEmailKnownDaily.limit, verifyCode.perEmailKnownDaily.limit]).toEqual([50, 150]);
	});

	it('holds re-authentication to counters of the session it comes from, for 15 minutes and a day', () => {
		const { reauthSendCode, reauthVerifyCode } = signInLimits();
		expect([reauthSendCode.perSession.limit, reauthSendCode.perSessionDaily.limit]).toEqual([5, 50]);
		expect([reauthVerifyCode.perSession.limit, reauthVerifyCode.perSessionDaily.limit]).toEqual([10, 150]);
		expect(reauthSendCode.perSessionDaily.windowSeconds).toBe(24 * 3600);
	});
});

describe('consumeInOrder', () => {
	const PER_EMAIL: RateLimitRule = { name: 'per-email', limit: 2, windowSeconds: 60 };
	const PER_ADDRESS: RateLimitRule = { name: 'per-address', limit: 5, windowSeconds: 600 };

	it('allows when every rule allows', async () => {
		const { limiter } = limiterWithClock();

		expect(
			await consumeInOrder(limiter, [
				[PER_EMAIL, 'a@example.com'],
				[PER_ADDRESS, '203.0.113.7']
			])
		).toEqual(ALLOWED);
	});

	it('refuses when any rule refuses, with the wait of that rule', async () => {
		const { limiter } = limiterWithClock();
		const checks: Array<[RateLimitRule, string]> = [
			[PER_EMAIL, 'a@example.com'],
			[PER_ADDRESS, '203.0.113.7']
		];
		await consumeInOrder(limiter, checks);
		await consumeInOrder(limiter, checks);

		expect(await consumeInOrder(limiter, checks)).toEqual({ allowed: false, retryAfterSeconds: 60 });
	});

	it('answers with the wait of the first rule that refuses, in the order given', async () => {
		const { limiter, advance } = limiterWithClock();
		const checks: Array<[RateLimitRule, string]> = [
			[PER_EMAIL, 'a@example.com'],
			[PER_ADDRESS, '203.0.113.7']
		];
		await consumeTimes(limiter, PER_ADDRESS, '203.0.113.7', 5);
		advance(100_000);

		expect(await consumeInOrder(limiter, checks)).toEqual({ allowed: false, retryAfterSeconds: 500 });
		await consumeInOrder(limiter, checks);
		expect(await consumeInOrder(limiter, checks)).toEqual({ allowed: false, retryAfterSeconds: 60 });
	});

	it('counts a refused attempt against nothing after the rule that refused it', async () => {
		const { limiter } = limiterWithClock();
		await consumeTimes(limiter, PER_EMAIL, 'a@example.com', 2);

		for (let i = 0; i < 10; i++) {
			const verdict = await consumeInOrder(limiter, [
				[PER_EMAIL, 'a@example.com'],
				[PER_ADDRESS, '203.0.113.7']
			]);
			expect(verdict.allowed).toBe(false);
		}
		expect((await consumeTimes(limiter, PER_ADDRESS, '203.0.113.7', 5)).every((verdict) => verdict.allowed)).toBe(true);
		expect((await limiter.consume(PER_ADDRESS, '203.0.113.7')).allowed).toBe(false);
	});

	it('allows when there is nothing to check', async () => {
		const { limiter } = limiterWithClock();
		expect(await consumeInOrder(limiter, [])).toEqual(ALLOWED);
	});
});
