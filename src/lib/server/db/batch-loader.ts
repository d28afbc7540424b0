/**
 * A DataLoader-style batch loader: the loads asked for during one turn of the event loop are
 * answered together once the turn's other work is done (setImmediate).
 */

/**
 * Answers every lookup asked for during one turn with one call of `lookupMany`, made at the end
 * of the turn. Each lookup would otherwise cost a database round trip — a write, a wake-up of
 * the database process, a read (docs/decisions/0002-per-turn-batching.md). Each key is looked up once per turn, however many callers ask
 * for it. When `lookupMany` fails, every lookup of its turn fails with the same error.
 *
 * A lookup asked for by code that resumes at the end of the turn, before the call is made
 * (callbacks queued earlier in the turn run first), joins it. Tests that fake setImmediate
 * must let it run.
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
		const found = new Promise<Map<Key, Value>>((resolve, reject) => {
			setImmediate(() => {
				// Cleared first: a lookup asked for from now on starts a new turn and a new query.
				thisTurn = null;
				try {
					resolve(lookupMany([...keys]));
				} catch (error) {
					// A lookupMany that throws instead of rejecting fails the turn's lookups alike.
					reject(error as Error);
				}
			});
		});
		return (thisTurn = { keys, found });
	}

	return async (key) => {
		const turn = joinThisTurn();
		turn.keys.add(key);
		return (await turn.found).get(key);
	};
}
