import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { atEndOfTurn, createSessionValidator } from './session';

const validator = createSessionValidator({
	store: { findByToken: async () => null, extend: async () => false },
	endSession: async () => false,
	log: { session() {} },
	secret: 'unit-test-secret-0123456789abcdefghijkl',
	cookies: { prefix: 'latchkey', domain: null, secure: false }
});

describe('atEndOfTurn', () => {
	it('answers the checks without a session of one turn together, at its end, as lookups are', async () => {
		const order: string[] = [];
		setImmediate(() => order.push('queued before'));
		const first = atEndOfTurn(validator.validateSessionCookie(null)).then(() => order.push('no cookie'));
		setImmediate(() => order.push('queued between'));
		const second = atEndOfTurn(validator.validateSessionCookie('theme=dark')).then(() => order.push('other cookies'));

		await Promise.all([first, second]);
		await nextTurn();
		expect(order).toEqual(['queued before', 'no cookie', 'other cookies', 'queued between']);
	});
});
