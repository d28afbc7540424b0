import type { Handle } from '@sveltejs/kit/hooks';

/**
 * Request handling per event-loop turn: the requests the server reads in one turn of the event
 * loop are handled together, once the turn's other work is done (setImmediate), rather than
 * each as soon as it is read. Handled one by one, each response is written on its own and may
 * wake an idle client again, which on a VM is expensive; handled together, a turn's responses
 * go out in one burst (docs/decisions/0006-one-end-of-turn-for-every-request.md).
 *
 * It is request scheduling, not a session rule, and it is switched on in one place: its entry
 * in the `handle` sequence of src/hooks.server.ts. Without that entry every request is handled
 * as soon as it is read, and nothing else changes.
 */

let endOfThisTurn: Promise<void> | null = null;

/**
 * Resolves once the current turn's other work is done. Every caller in one turn gets the same
 * promise, so they all go on together, before any callback queued after the turn's first
 * caller; a caller alone waits for nothing but the rest of the current turn.
 *
 * Tests that fake setImmediate must let it run.
 */
export function endOfTurn(): Promise<void> {
	endOfThisTurn ??= new Promise((resolve) => {
		setImmediate(() => {
			// Cleared first: a caller from now on belongs to the next turn.
			endOfThisTurn = null;
			resolve();
		});
	});
	return endOfThisTurn;
}

/**
 * Goes on with the rest of the sequence at the end of the turn the request was read in, with
 * the other requests of that turn. Waiting before the page is rendered, not after, is what
 * lets the turn's work and its writes happen in one burst; a signed-in request then asks for
 * its session there, and its lookup is batched with the turn's others (db/batch-loader.ts).
 */
export const respondAtEndOfTurn: Handle = async ({ event, resolve }) => {
	await endOfTurn();
	return resolve(event);
};
