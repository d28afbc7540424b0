import { describe, expect, it } from 'vitest';
import { roundOrder } from './measure';

describe('roundOrder (every alternating bench)', () => {
	it('runs A B C, then C B A, then A B C again, each with its index', () => {
		const orders = [0, 1, 2, 3].map((round) => roundOrder(['A', 'B', 'C'], round));
		expect(orders.map((order) => order.map(([, name]) => name).join(' '))).toEqual([
			'A B C',
			'C B A',
			'A B C',
			'C B A'
		]);
		expect(orders[1]).toEqual([
			[2, 'C'],
			[1, 'B'],
			[0, 'A']
		]);
	});
});
