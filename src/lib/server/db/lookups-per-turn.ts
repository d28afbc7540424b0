/**
 * Answers every lookup asked for during one turn of the event loop with one call of
 * `lookupMany`, made once the turn's other work is done (setImmediate). Under load a server
 * reads many requests in one turn; each then costs a database round trip — a write, a wake-up of
 * the database process, a read — unless they share one. A lookup asked for alone waits for
 * nothing but the rest of the current turn, which its answer would have waited for anyway.
 * Each key is looked up once per turn, however many callers ask for it. When `lookupMany` fails,
 * every lookup of its turn fails with the same error.
 *
 * `lookupMany` runs in the async context of the turn's first caller, so it must not depend on
 * per-request state (getRequestEvent). Tests that fake setImmediate must let it run.
 */
export function lookupsPerTurn<Key, Value>(
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
					reject(error);
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
