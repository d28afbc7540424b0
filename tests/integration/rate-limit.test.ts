import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/lib/server/db';
import {
	databaseRateLimiter,
	redisRateLimiter,
	type RateLimiter,
	type RateLimitRule,
	type RateLimitVerdict
} from '../../src/lib/server/rate-limit';
import { createScratchDatabase, type Dialect, type ScratchDatabase } from './support/databases';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Unique to this run, so rule names (and so Redis keys) never meet another run's. */
const RUN = `${process.pid}-${randomBytes(6).toString('hex')}`;

const ALLOWED = { allowed: true, retryAfterSeconds: 0 };

/** A shared store as the app instances would see it. */
interface Store {
	/** The limiter of one app instance. */
	limiter: RateLimiter;
	/** The limiter of a second app instance: its own connection to the same store. */
	otherInstance: RateLimiter;
	/** The window of the rule used to watch a window pass (short where time really has to pass). */
	expiringWindowSeconds: number;
	/** Lets a window of `expiringWindowSeconds` pass, counted from its first attempt. */
	passWindow(): Promise<void>;
	close(): Promise<void>;
}

interface StoreCase {
	label: string;
	open(): Promise<Store>;
}

/** The database limiter on a fresh scratch database, on a clock the test moves by hand. */
function databaseStore(dialect: Dialect): StoreCase {
	return {
		label: `database limiter on ${dialect}`,
		async open() {
			const scratch: ScratchDatabase = await createScratchDatabase(dialect);
			const databases: Storage[] = [];
			try {
				const first = openStorage(scratch.target);
				databases.push(first);
				await first.migrate();
				const second = openStorage(scratch.target);
				databases.push(second);
				const clock = { now: Date.now() };
				const now = () => clock.now;
				const windowSeconds = 60;
				return {
					limiter: databaseRateLimiter(first, now),
					otherInstance: databaseRateLimiter(second, now),
					expiringWindowSeconds: windowSeconds,
					passWindow: async () => {
						clock.now += windowSeconds * 1000;
					},
					close: async () => {
						await Promise.all(databases.map((database) => database.close()));
						await scratch.drop();
					}
				};
			} catch (error) {
				await Promise.all(databases.map((database) => database.close()));
				await scratch.drop();
				throw error;
			}
		}
	};
}

/** The Redis limiter on the real Redis: only this run's keys are touched, and they expire by themselves. */
function redisStore(): StoreCase {
	return {
		label: 'redis limiter',
		async open() {
			const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
			const windowSeconds = 60;
			return {
				limiter: redisRateLimiter(clients[0]!),
				otherInstance: redisRateLimiter(clients[1]!),
				expiringWindowSeconds: windowSeconds,
				// Redis keeps its own time: a window ends when its key expires. Every key must carry an
				// expiry within its window; deleting them then ends the windows at once, with no wait
				// that a slow machine could outrun.
				passWindow: async () => {
					for (const ttl of await runKeyTtls(clients[0]!)) {
						expect(ttl).toBeGreaterThan(0);
						expect(ttl).toBeLessThanOrEqual(windowSeconds * 1000);
					}
					await removeRunKeys(clients[0]!);
				},
				close: async () => {
					await removeRunKeys(clients[0]!);
					await Promise.all(clients.map((client) => client.quit()));
				}
			};
		}
	};
}

/** The milliseconds each of this run's counters has left (-1: no expiry). */
async function runKeyTtls(redis: Redis): Promise<number[]> {
	const ttls: number[] = [];
	let cursor = '0';
	do {
		const [next, keys] = await redis.scan(cursor, 'MATCH', `latchkey:rate:*-${RUN}:*`, 'COUNT', 1000);
		for (const key of keys) ttls.push(await redis.pttl(key));
		cursor = next;
	} while (cursor !== '0');
	return ttls;
}

/** Deletes this run's counters (and nothing else); all of them would expire within a minute anyway. */
async function removeRunKeys(redis: Redis): Promise<void> {
	let cursor = '0';
	do {
		const [next, keys] = await redis.scan(cursor, 'MATCH', `latchkey:rate:*-${RUN}:*`, 'COUNT', 1000);
		if (keys.length > 0) await redis.del(...keys);
		cursor = next;
	} while (cursor !== '0');
}

const STORES: StoreCase[] = [databaseStore('sqlite'), databaseStore('postgres'), databaseStore('mysql'), redisStore()];

let rules = 0;

/** A rule no other test (nor another run) has counted against. */
function freshRule(limit: number, windowSeconds = 60): RateLimitRule {
	rules += 1;
	return { name: `test-${rules}-${RUN}`, limit, windowSeconds };
}

/** Consumes `times` attempts one after another, each awaited before the next. */
async function consumeTimes(
	limiter: RateLimiter,
	rule: RateLimitRule,
	subject: string,
	times: number
): Promise<RateLimitVerdict[]> {
	const verdicts: RateLimitVerdict[] = [];
	for (let i = 0; i < times; i++) verdicts.push(await limiter.consume(rule, subject));
	return verdicts;
}

function allowedCount(verdicts: RateLimitVerdict[]): number {
	return verdicts.filter((verdict) => verdict.allowed).length;
}

/** A refusal must name a wait within the rule's window: more than nothing, no more than the whole window. */
function expectRefused(verdict: RateLimitVerdict, rule: RateLimitRule): void {
	expect(verdict.allowed).toBe(false);
	expect(verdict.retryAfterSeconds).toBeGreaterThan(0);
	expect(verdict.retryAfterSeconds).toBeLessThanOrEqual(rule.windowSeconds);
	expect(Number.isInteger(verdict.retryAfterSeconds)).toBe(true);
}

describe.each(STORES)('$label', (storeCase) => {
	let store: Store;

	beforeAll(async () => {
		store = await storeCase.open();
	});

	afterAll(async () => {
		await store?.close();
	});

	it('allows exactly `limit` attempts in a window and refuses the next with a wait within the window', async () => {
		const rule = freshRule(3);

		expect(await consumeTimes(store.limiter, rule, 'a@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
	});

	it('counts each subject separately', async () => {
		const rule = freshRule(3);
		await consumeTimes(store.limiter, rule, 'a@example.com', 4);

		expect(await consumeTimes(store.limiter, rule, 'b@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expectRefused(await store.limiter.consume(rule, 'b@example.com'), rule);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
	});

	it('counts each rule separately for the same subject', async () => {
		const rule = freshRule(3);
		const otherRule = freshRule(3);
		await consumeTimes(store.limiter, rule, 'a@example.com', 4);

		expect(await consumeTimes(store.limiter, otherRule, 'a@example.com', 3)).toEqual([ALLOWED, ALLOWED, ALLOWED]);
		expectRefused(await store.limiter.consume(otherRule, 'a@example.com'), otherRule);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
	});

	it('starts the count over once the window has passed', async () => {
		const rule = freshRule(2, store.expiringWindowSeconds);
		expect(await consumeTimes(store.limiter, rule, 'a@example.com', 2)).toEqual([ALLOWED, ALLOWED]);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);

		await store.passWindow();

		expect(await consumeTimes(store.limiter, rule, 'a@example.com', 2)).toEqual([ALLOWED, ALLOWED]);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
	});

	it('allows exactly `limit` of 50 concurrent attempts for one subject', async () => {
		const rule = freshRule(10);

		const verdicts = await Promise.all(Array.from({ length: 50 }, () => store.limiter.consume(rule, 'a@example.com')));

		expect(allowedCount(verdicts)).toBe(10);
		for (const verdict of verdicts) {
			if (verdict.allowed) expect(verdict).toEqual(ALLOWED);
			else expectRefused(verdict, rule);
		}
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
	});

	it('shares the count between two instances over the same store', async () => {
		const rule = freshRule(10);

		const throughA = await consumeTimes(store.limiter, rule, 'a@example.com', 6);
		const throughB = await consumeTimes(store.otherInstance, rule, 'a@example.com', 6);

		expect(allowedCount(throughA)).toBe(6);
		expect(allowedCount(throughB)).toBe(4);
		expect(allowedCount([...throughA, ...throughB])).toBe(10);
		expectRefused(await store.limiter.consume(rule, 'a@example.com'), rule);
		expectRefused(await store.otherInstance.consume(rule, 'a@example.com'), rule);
	});

	it('shares the count between two instances attempting at once', async () => {
		const rule = freshRule(10);

		const verdicts = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				(i % 2 === 0 ? store.limiter : store.otherInstance).consume(rule, 'a@example.com')
			)
		);

		expect(allowedCount(verdicts)).toBe(10);
	});
});
