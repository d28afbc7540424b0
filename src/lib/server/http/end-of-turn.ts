import type { Handle } from '@sveltejs/kit/hooks';

/**
 * Response coalescing per event-loop turn: the requests the server reads in one turn of the
 * event loop have their responses handed back together, once the turn's other work is done
 * (setImmediate), rather than each as soon as it is ready. Answered one by one, each response
 * is written on its own and may wake an idle client again, which on a VM is expensive; written
 * together, a turn's responses go out in one burst
 * (docs/decisions/0006-one-end-of-turn-for-every-request.md).
 *
 * It is response scheduling, not a session rule, and it is switched on in one place: its entry
 * in the `handle` sequence of src/hooks.server.ts. Without that entry every response is handed
 * back as soon as it is ready, and nothing else changes.
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
 * Hands back the response no earlier than the end of the turn the request was read in. The
 * rest of the sequence runs at once: a request that waits for something else (its session
 * lookup, answered at the end of the turn or later) is not held any further.
 */
export const respondAtEndOfTurn: Handle = async ({ event, resolve }) => {
	const turnEnds = endOfTurn();
	const response = await resolve(event);
	await turnEnds;
	return response;
};
