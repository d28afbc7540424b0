/**
 * Sorts the samples of a V8 CPU profile (the .cpuprofile format) into what a signed-in request
 * pays for, so that `npm run bench:profile` can say where signed-in and anonymous requests
 * differ. A sample goes to the first category found walking from the function running up its
 * callers; functions are known by name (the server build keeps them) or, for drivers, by the
 * package they come from.
 */

export interface CpuProfile {
	nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
	samples: number[];
	/** Microseconds since the previous sample. */
	timeDeltas: number[];
}

export const CATEGORIES = [
	'cookie signature',
	'session lookup (storage, driver)',
	'session rules, network watch',
	'page rendering (loads, components)',
	'garbage collection',
	'HTTP, promises, runtime (the rest)'
] as const;
export type Category = (typeof CATEGORIES)[number];

const [COOKIE, LOOKUP, RULES, RENDERING, GC, REST] = CATEGORIES;

/** src/lib/server/auth/cookies.ts */
const COOKIE_FUNCTIONS = new Set([
	'verifiedSessionToken',
	'isSignedWith',
	'hmac',
	'firstCookieValue',
	'decodeIfEncoded'
]);
/** The engines' storage.ts lookups and the batch loader (src/lib/server/db). */
const LOOKUP_FUNCTIONS = new Set(['findByToken', 'findByTokens', 'readSessionRow', 'readUserRow', 'joinThisTurn']);
/** Database drivers and what they use, by package folder. */
const DRIVER_PACKAGE =
	/node_modules\/(better-sqlite3|pg|pg-[\w-]+|postgres-[\w-]+|mysql2|denque|sqlstring|named-placeholders|generate-function|lru\.min|lru-cache|long|iconv-lite|seq-queue)\//;
/**
 * The session's rules and the hooks around them (validator.ts, handles.ts, network-watch.ts,
 * http/end-of-turn.ts), by
 * their own time only: the hooks' callers' frames also hold the page's rendering below them.
 */
const RULE_FUNCTIONS = new Set([
	'validateSessionCookie',
	'sessionLocals',
	'respondAtEndOfTurn',
	'endOfTurn',
	'writeSessionCookie',
	'watchNetwork',
	'networkWatch',
	'networkOf',
	'signInRequired',
	'noStoreWhenSignedIn',
	'signedOut',
	'reachedAbsoluteLifetime',
	'idleExpired',
	'refreshDue'
]);
/** SvelteKit's page rendering: the loads, the components, the serialized data. */
const RENDERING_FUNCTIONS = new Set(['render_page', 'render_response']);

type Frame = CpuProfile['nodes'][number]['callFrame'];

/** The bundler may suffix a name it had to rename (`hmac$1`). */
function nameOf(frame: Frame): string {
	return frame.functionName.replace(/\$\d+$/, '');
}

/** The category of the sample whose stack is `stack`, the running function first. */
export function categoryOf(stack: Frame[]): Category {
	if (stack[0]?.functionName === '(garbage collector)') return GC;
	let onlyNativeBelow = true;
	for (const frame of stack) {
		const name = nameOf(frame);
		if (COOKIE_FUNCTIONS.has(name)) return COOKIE;
		if (LOOKUP_FUNCTIONS.has(name) || DRIVER_PACKAGE.test(frame.url)) return LOOKUP;
		if (RENDERING_FUNCTIONS.has(name)) return RENDERING;
		if (onlyNativeBelow && RULE_FUNCTIONS.has(name)) return RULES;
		if (frame.url !== '') onlyNativeBelow = false;
	}
	return REST;
}

/** Busy time in microseconds per category; the idle samples are left out. */
export function timeByCategory(profile: CpuProfile): Record<Category, number> {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const parentOf = new Map<number, number>();
	for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
	const categoryOfNode = new Map<number, Category | null>();
	const nodeCategory = (id: number): Category | null => {
		const known = categoryOfNode.get(id);
		if (known !== undefined) return known;
		const stack: Frame[] = [];
		for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) stack.push(byId.get(at)!.callFrame);
		const category = stack[0]!.functionName === '(idle)' ? null : categoryOf(stack);
		categoryOfNode.set(id, category);
		return category;
	};
	const totals = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<Category, number>;
	profile.samples.forEach((id, index) => {
		const category = nodeCategory(id);
		// The time until the next sample is what this sample stands for.
		if (category) totals[category] += profile.timeDeltas[index + 1] ?? 0;
	});
	return totals;
}
