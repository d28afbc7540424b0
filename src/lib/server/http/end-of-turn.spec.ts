import type { RequestEvent } from '@sveltejs/kit';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { endOfTurn, respondAtEndOfTurn } from './end-of-turn';

const event = {} as RequestEvent;
/** The handle, its answer as a promise (a Handle may answer at once). */
const respond = async (resolve: () => Promise<Response>) => respondAtEndOfTurn({ event, resolve });
/** A response ready at once, as a page without a session is. */
const ready = (body: string) => async () => new Response(body);

// A turn a test left pending (endOfTurn called last) ends before the next test queues anything.
beforeEach(() => nextTurn());

describe('endOfTurn', () => {
	it('lets every caller of one turn go on together at its end, before a callback queued between them', async () => {
		const order: string[] = [];
		setImmediate(() => order.push('queued before'));
		const first = endOfTurn().then(() => order.push('first caller'));
		setImmediate(() => order.push('queued between'));
		const second = endOfTurn().then(() => order.push('second caller'));

		await Promise.all([first, second]);
		await nextTurn();
		expect(order).toEqual(['queued before', 'first caller', 'second caller', 'queued between']);
	});

	it('gives a caller after the end of a turn the end of the next one', async () => {
		const thisTurn = endOfTurn();
		expect(endOfTurn()).toBe(thisTurn);
		await thisTurn;
		expect(endOfTurn()).not.toBe(thisTurn);
	});
});

describe('respondAtEndOfTurn', () => {
	it('hands back the responses of one turn together, at its end, however soon they are ready', async () => {
		const order: string[] = [];
		setImmediate(() => order.push('queued before'));
		const first = respond(ready('no cookie')).then(() => order.push('no cookie'));
		setImmediate(() => order.push('queued between'));
		const second = respond(ready('other cookies')).then(() => order.push('other cookies'));

		await Promise.all([first, second]);
		await nextTurn();
		expect(order).toEqual(['queued before', 'no cookie', 'other cookies', 'queued between']);
	});

	it('handles a request only at the end of the turn it was read in, with the others of that turn', async () => {
		const order: string[] = [];
		const handled = (name: string) => async () => {
			order.push(`${name} handled`);
			return new Response(name);
		};
		const first = respond(handled('first'));
		const second = respond(handled('second'));
		expect(order).toEqual([]);
		setImmediate(() => order.push('queued after both'));

		await Promise.all([first, second]);
		expect(order).toEqual(['first handled', 'second handled']);
		await nextTurn();
		expect(order).toEqual(['first handled', 'second handled', 'queued after both']);
	});

	it('hands on the response unchanged', async () => {
		const response = new Response('page', { status: 201, headers: { 'x-page': 'yes' } });
		expect(await respond(async () => response)).toBe(response);
	});

	it('holds a response ready only after the turn (a session lookup) no further', async () => {
		const order: string[] = [];
		const late = respond(async () => {
			await nextTurn();
			await nextTurn();
			return new Response('signed in');
		}).then(() => order.push('signed in'));
		// Queued after the response is ready: the response must come first.
		await nextTurn();
		await nextTurn();
		setImmediate(() => order.push('queued after it was ready'));

		await late;
		await nextTurn();
		expect(order).toEqual(['signed in', 'queued after it was ready']);
	});

	it('passes a failure of the rest of the sequence on', async () => {
		const failing = respond(async () => {
			throw new Error('database unavailable');
		});
		await expect(failing).rejects.toThrow('database unavailable');
	});
});
