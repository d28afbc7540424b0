/**
 * A DataLoader-style batch loader: the loads asked for during one turn of the event loop are
 * answered together once the turn's other work is done (setImmediate).
 *
 * Under load a server reads many requests in one turn. Answered one by one, each response is
 * written on its own, and each write may wake an idle client again, which on a VM is
 * expensive; requests that go on from one shared end of turn are finished, and written, in
 * one burst (docs/decisions/0006-one-end-of-turn-for-every-request.md).
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
 * Answers every lookup asked for during one turn with one call of `lookupMany`, made at the end
 * of the turn. Each lookup would otherwise cost a database round trip — a write, a wake-up of
 * the database process, a read (docs/decisions/0002-per-turn-batching.md). Each key is looked up once per turn, however many callers ask
 * for it. When `lookupMany` fails, every lookup of its turn fails with the same error.
 *
 * `lookupMany` runs in the async context of the turn's first caller, so it must not depend on
 * per-request state (getRequestEvent).
 */
export function createBatchLoader<Key, Value>(
	lookupMany: (keys: Key[]) => Promise<Map<Key, Value>>
): (key: Key) => Promise<Value | undefined> {
	let thisTurn: { keys: Set<Key>; found: Promise<Map<Key, Value>> } | null = null;

	function joinThisTurn(): NonNullable<typeof thisTurn> {
		if (thisTurn) return thisTurn;
		const keys = new Set<Key>();
		const found = endOfTurn().then(() => {
			// Cleared first: a lookup asked for from now on starts a new turn and a new query.
			thisTurn = null;
			return lookupMany([...keys]);
		});
		return (thisTurn = { keys, found });
	}

	return async (key) => {
		const turn = joinThisTurn();
		turn.keys.add(key);
		return (await turn.found).get(key);
	};
}
