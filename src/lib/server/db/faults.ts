import { ENGINES } from './engines';

/** Socket errors: a server engine that cannot be reached at all. */
const UNREACHABLE_SOCKET_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'EPIPE',
	'EHOSTUNREACH',
	'ENOTFOUND'
]);

/** How deep to look through `cause`: Drizzle and Better Auth each wrap the driver's error once. */
const MAX_CAUSE_DEPTH = 4;

const engines = Object.values(ENGINES);

/**
 * What is wrong with the database when `error` (or an error it wraps) says it cannot be used
 * now, asked of every engine (db/<engine>/faults.ts) — e.g. "the SQLite database file is
 * read-only (SQLITE_READONLY: attempt to write a readonly database)"; null for any other
 * error. Such a request deserves a 503 and "try again", not a 500. The drivers' messages for
 * these name no parameter, so they are safe to log.
 */
export function classifyFault(error: unknown): string | null {
	let current: unknown = error;
	for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
		const raw = (current as { code?: unknown }).code;
		const code = typeof raw === 'string' ? raw : undefined;
		const what = faultOf(code, current.message);
		if (what) return `${what} (${code === undefined ? '' : `${code}: `}${current.message})`;
		current = current.cause;
	}
	return null;
}

function faultOf(code: string | undefined, message: string): string | null {
	for (const engine of engines) {
		const what = engine.faultOf(code, message);
		if (what) return what;
	}
	return code !== undefined && UNREACHABLE_SOCKET_CODES.has(code) ? 'the database server cannot be reached' : null;
}
