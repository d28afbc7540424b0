import { createAuth, type Auth } from '../src/lib/server/auth/better-auth';
import { sessionRevoker } from '../src/lib/server/auth/sessions';
import { createSessionEndings } from '../src/lib/server/auth/session-endings';
import { CLIENT_ADDRESS_HEADER } from '../src/lib/server/http/client-address';
import { createSessionValidator, type SessionValidator } from '../src/lib/server/auth/validator';
import { PRESETS } from '../src/lib/server/auth/policy';
import { signSessionToken } from '../src/lib/server/auth/cookies';
import { credentialCookieName, credentialValue, deviceCredentialCheck } from '../src/lib/server/auth/device-binding';
import { loadConfig } from '../src/lib/server/config';
import { storageOf, type Database } from '../src/lib/server/db';
import type { DatabaseTarget } from '../src/lib/server/db/target';
import { createSessionLog } from '../src/lib/server/session-log';
import { bindToDevice, seedSessions, seedUsers, uniquePrefix, userIdOf } from './seed';

export const BENCH_ORIGIN = 'http://localhost:5173';
const BENCH_SECRET = 'latchkey-bench-secret-0123456789abcdef';
/** Any address will do; Better Auth only needs one to rate-limit and record the session's IP. */
const BENCH_CLIENT_ADDRESS = '203.0.113.7';
const BENCH_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/1';

export interface BenchStack {
	auth: Auth;
	validator: SessionValidator;
}

/** Better Auth and the session validator wired as in the app (and the integration tests), on `database`. */
export function buildStack(target: DatabaseTarget, database: Database): BenchStack {
	const config = loadConfig({
		ORIGIN: BENCH_ORIGIN,
		BETTER_AUTH_SECRET: BENCH_SECRET,
		DATABASE_URL: target.dialect === 'sqlite' ? `file:${target.file}` : target.url
	});
	// Dropped: only the sign-in writes a line (no check is due a refresh), and it would clutter the table.
	const log = createSessionLog(config.secret, () => undefined);
	const storage = storageOf(database);
	const auth = createAuth({ config, database: storage, currentRequestEvent: () => undefined, log });
	const store = storage.sessions;
	const endings = createSessionEndings(storage.endings, config.secret);
	const validator = createSessionValidator({
		store,
		revokeSession: sessionRevoker({ database: storage, cache: null, log, endings }),
		endings,
		log,
		secret: config.secret,
		cookies: config.cookies,
		deviceCredential: deviceCredentialCheck(config.secret, config.cookies)
	});
	return { auth, validator };
}

export interface SignedIn {
	userId: string;
	/** `name=value` of the session cookie, as a browser would send it back. */
	cookie: string;
}

/**
 * `count` more signed-in users at once (bulk rows, one session each), with the cookies a
 * sign-in would have given them: what many browsers send to a busy server.
 */
export async function seedSignedIn(stack: BenchStack, database: Database, count: number): Promise<SignedIn[]> {
	const prefix = uniquePrefix();
	await seedUsers(database, prefix, count);
	const { tokenOf } = await seedSessions(database, {
		count,
		owners: { prefix, users: count },
		expiresAt: Date.now() + PRESETS.standard.idleSeconds * 1000
	});
	return Array.from({ length: count }, (_, index) => ({
		userId: userIdOf(prefix, index),
		cookie: `${stack.validator.cookieName}=${encodeURIComponent(signSessionToken(tokenOf(index), BENCH_SECRET))}`
	}));
}

/**
 * Signed-in users as seedSignedIn makes them, each session bound to a device key, and each
 * cookie header with the session's credential cookie (valid for an hour), as a DBSC browser
 * sends them.
 */
export async function seedBoundSignedIn(stack: BenchStack, database: Database, count: number): Promise<SignedIn[]> {
	const unbound = await seedSignedIn(stack, database, count);
	const credential = credentialCookieName({ prefix: 'latchkey', domain: null, secure: false });
	const expiresAt = Date.now() + 3600_000;
	const sessionIds: string[] = [];
	for (const { cookie } of unbound) sessionIds.push((await stack.validator.validateSessionCookie(cookie)).session!.id);
	await bindToDevice(database, sessionIds);
	return unbound.map(({ userId, cookie }, index) => ({
		userId,
		cookie: `${cookie}; ${credential}=${credentialValue(BENCH_SECRET, sessionIds[index]!, expiresAt)}`
	}));
}

/**
 * The session step of a code sign-in, through Better Auth as the login action takes it once the
 * code is accepted, so the cookie is exactly what a browser gets. The code itself is not what
 * the bench measures.
 */
export async function signIn(stack: BenchStack, email: string): Promise<SignedIn> {
	const headers = new Headers({
		origin: BENCH_ORIGIN,
		'user-agent': BENCH_USER_AGENT,
		// hooks.server.ts stamps this in the app; Better Auth reads the client address from it.
		[CLIENT_ADDRESS_HEADER]: BENCH_CLIENT_ADDRESS
	});
	const signedIn = await stack.auth.api.signInWithAcceptedCode({
		body: { email, codeAccepted: true },
		headers,
		asResponse: true
	});
	if (signedIn.status !== 200) throw new Error(`signing in failed with ${signedIn.status}`);
	const cookie = sessionCookie(signedIn);
	const { user } = await stack.validator.validateSessionCookie(cookie);
	if (!user) throw new Error('the new session cookie does not validate');
	return { userId: user.id, cookie };
}

/** The last session-cookie Set-Cookie wins, as in a browser. */
function sessionCookie(response: Response): string {
	const line = response.headers
		.getSetCookie()
		.filter((candidate) => /^(__Secure-)?[\w-]+\.session_token=/.test(candidate))
		.at(-1);
	if (!line) throw new Error(`no session cookie in the sign-in response (status ${response.status})`);
	return line.split(';')[0]!;
}
