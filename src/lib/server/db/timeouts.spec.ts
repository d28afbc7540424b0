import { describe, expect, it } from 'vitest';
import { CLIENT_MARGIN_MS, clientTimeoutMs, LONGEST_POOL_WAIT_MS, poolWaitMs } from './timeouts';

describe('client-side timeouts', () => {
	it('wait for an answer a margin past the statement timeout', () => {
		expect(clientTimeoutMs(2000)).toBe(2000 + CLIENT_MARGIN_MS);
		expect(clientTimeoutMs(30_000)).toBe(30_000 + CLIENT_MARGIN_MS);
	});

	it('wait for a pooled connection no longer than for an answer, and never past the longest wait', () => {
		expect(poolWaitMs(2000)).toBe(clientTimeoutMs(2000));
		expect(poolWaitMs(30_000)).toBe(LONGEST_POOL_WAIT_MS);
		for (const statementTimeoutMs of [100, 1000, 3000, 4000, 10_000, 30_000])
			expect(poolWaitMs(statementTimeoutMs)).toBeLessThanOrEqual(clientTimeoutMs(statementTimeoutMs));
	});
});
