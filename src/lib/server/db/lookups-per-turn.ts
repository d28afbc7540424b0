interface Waiter<Value> {
	resolve(value: Value | undefined): void;
	reject(error: unknown): void;
}

/**
 * Answers every lookup asked for during one turn of the event loop with one call of
 * `lookupMany`, made once the turn's other work is done (setImmediate). Under load a server
 * reads many requests in one turn; each then costs a database round trip — a write, a wake-up of
 * the database process, a read — unless they share one. A lookup asked for alone waits for
 * nothing but the rest of the current turn, which its answer would have waited for anyway.
 * Each key is looked up once per turn, however many callers ask for it. When `lookupMany` fails,
 * every lookup of its turn fails with the same error.
 */
export function lookupsPerTurn<Key, Value>(
	lookupMany: (keys: Key[]) => Promise<Map<Key, Value>>
): (key: Key) => Promise<Value | undefined> {
	let thisTurn: Map<Key, Waiter<Value>[]> | null = null;

	function waitersForThisTurn(): Map<Key, Waiter<Value>[]> {
		if (thisTurn) return thisTurn;
		const turn = new Map<Key, Waiter<Value>[]>();
		setImmediate(() => {
			thisTurn = null;
			void answer(turn);
		});
		return (thisTurn = turn);
	}

	async function answer(turn: Map<Key, Waiter<Value>[]>): Promise<void> {
		let found: Map<Key, Value>;
		try {
			found = await lookupMany([...turn.keys()]);
		} catch (error) {
			for (const waiters of turn.values()) for (const waiter of waiters) waiter.reject(error);
			return;
		}
		for (const [key, waiters] of turn) for (const waiter of waiters) waiter.resolve(found.get(key));
	}

	return (key) =>
		new Promise((resolve, reject) => {
			const turn = waitersForThisTurn();
			const waiters = turn.get(key);
			if (waiters) waiters.push({ resolve, reject });
			else turn.set(key, [{ resolve, reject }]);
		});
}
