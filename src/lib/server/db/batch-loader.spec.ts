import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createBatchLoader } from './batch-loader';

/** A lookup over a fixed table that records the keys of every call it gets. */
function recordingLookup(table: Record<string, number>) {
	const calls: string[][] = [];
	const lookup = createBatchLoader(async (keys: string[]) => {
		calls.push(keys);
		return new Map(keys.filter((key) => key in table).map((key) => [key, table[key]!]));
	});
	return { lookup, calls };
}

describe('createBatchLoader', () => {
	it('answers the lookups of one turn with one call, each with its own value', async () => {
		const { lookup, calls } = recordingLookup({ a: 1, b: 2 });

		expect(await Promise.all([lookup('a'), lookup('b'), lookup('missing')])).toEqual([1, 2, undefined]);
		expect(calls).toEqual([['a', 'b', 'missing']]);
	});

	it('takes in a lookup asked for as the turn ends, before its call is made', async () => {
		const { lookup, calls } = recordingLookup({ a: 1, late: 2 });

		// Code that resumes at the end of the turn, queued before the turn's first lookup.
		const late = nextTurn().then(() => lookup('late'));
		expect(await Promise.all([lookup('a'), late])).toEqual([1, 2]);
		expect(calls).toEqual([['a', 'late']]);
	});

	it('looks a key asked for twice in one turn up once, and answers both', async () => {
		const { lookup, calls } = recordingLookup({ a: 1 });

		expect(await Promise.all([lookup('a'), lookup('a')])).toEqual([1, 1]);
		expect(calls).toEqual([['a']]);
	});

	it('makes a new call in a later turn, so a later lookup reads afresh', async () => {
		const table: Record<string, number> = { a: 1 };
		const { lookup, calls } = recordingLookup(table);

		expect(await lookup('a')).toBe(1);
		delete table.a;
		await nextTurn();
		expect(await lookup('a')).toBeUndefined();
		expect(calls).toEqual([['a'], ['a']]);
	});

	it('does not wait for a slow call of an earlier turn', async () => {
		let releaseFirst = () => {};
		const calls: string[][] = [];
		const lookup = createBatchLoader(async (keys: string[]) => {
			calls.push(keys);
			if (calls.length === 1) await new Promise<void>((resolve) => (releaseFirst = resolve));
			return new Map(keys.map((key) => [key, key.length]));
		});

		const first = lookup('slow');
		await nextTurn();
		expect(await lookup('fast')).toBe(4);
		releaseFirst();
		expect(await first).toBe(4);
		expect(calls).toEqual([['slow'], ['fast']]);
	});

	it('fails every lookup of the turn with the error of its call, and the next turn works again', async () => {
		let failing = true;
		const lookup = createBatchLoader(async (keys: string[]) => {
			if (failing) throw new Error('connection refused');
			return new Map(keys.map((key) => [key, 0]));
		});

		const results = await Promise.allSettled([lookup('a'), lookup('b')]);
		expect(results.map((result) => result.status === 'rejected' && (result.reason as Error).message)).toEqual([
			'connection refused',
			'connection refused'
		]);
		failing = false;
		expect(await lookup('a')).toBe(0);
	});

	it('fails the lookups of the turn when the lookup function throws before returning a promise', async () => {
		const lookup = createBatchLoader<string, number>(() => {
			throw new Error('not connected');
		});

		await expect(lookup('a')).rejects.toThrow('not connected');
	});
});
