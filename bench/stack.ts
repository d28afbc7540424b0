import { createAuth, type Auth } from '../src/lib/server/auth/better-auth';
import { sessionRevoker } from '../src/lib/server/auth/sessions';
import { CLIENT_ADDRESS_HEADER } from '../src/lib/server/http/client-address';
import { createSessionValidator, type SessionValidator } from '../src/lib/server/auth/session';
import { PRESETS } from '../src/lib/server/auth/policy';
import { signSessionToken } from '../src/lib/server/auth/session-cookie';
import { loadConfig } from '../src/lib/server/config';
import { storageOf, type Database } from '../src/lib/server/db';
import type { DatabaseTarget } from '../src/lib/server/db/target';
import { DevOutbox } from '../src/lib/server/mail/outbox';
import { createSessionLog } from '../src/lib/server/session-log';
import { seedSessions, seedUsers, uniquePrefix, userIdOf } from './seed';

export const BENCH_ORIGIN = 'http://localhost:5173';
const BENCH_SECRET = 'latchkey-bench-secret-0123456789abcdef';
/** Any address will do; Better Auth only needs one to rate-limit and record the session's IP. */
const BENCH_CLIENT_ADDRESS = '203.0.113.7';
const BENCH_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/1';

export interface BenchStack {
	auth: Auth;
	validator: SessionValidator;
	outbox: DevOutbox;
}

/** Better Auth and the session validator wired as in the app (and the integration tests), on `database`. */
export function buildStack(target: DatabaseTarget, database: Database): BenchStack {
	const config = loadConfig({
		ORIGIN: BENCH_ORIGIN,
		BETTER_AUTH_SECRET: BENCH_SECRET,
		DATABASE_URL: target.dialect === 'sqlite' ? `file:${target.file}` : target.url
	});
	const outbox = new DevOutbox();
	// Dropped: only the sign-in writes a line (no check is due a refresh), and it would clutter the table.
	const log = createSessionLog(config.secret, () => undefined);
	const storage = storageOf(database);
	const auth = createAuth({ config, database: storage, mailer: outbox, currentRequestEvent: () => undefined, log });
	const store = storage.sessions;
	const validator = createSessionValidator({
		store,
		revokeSession: sessionRevoker({ auth, database: storage, log }),
		log,
		secret: config.secret,
		cookies: config.cookies
	});
	return { auth, validator, outbox };
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
	const tokenOf = await seedSessions(database, {
		count,
		owners: { prefix, users: count },
		expiresAt: Date.now() + PRESETS.standard.idleSeconds * 1000
	});
	return Array.from({ length: count }, (_, index) => ({
		userId: userIdOf(prefix, index),
		cookie: `${stack.validator.cookieName}=${encodeURIComponent(signSessionToken(tokenOf(index), BENCH_SECRET))}`
	}));
}

/** Email-OTP sign-in through Better Auth's HTTP API, so the cookie is exactly what a browser gets. */
export async function signIn(stack: BenchStack, email: string): Promise<SignedIn> {
	const sent = await stack.auth.handler(authRequest('/email-otp/send-verification-otp', { email, type: 'sign-in' }));
	if (sent.status !== 200) throw new Error(`sending the sign-in code failed with ${sent.status}`);
	const code = stack.outbox.list()[0]?.code;
	if (!code) throw new Error('no sign-in code in the outbox');
	const signedIn = await stack.auth.handler(authRequest('/sign-in/email-otp', { email, otp: code }));
	if (signedIn.status !== 200) throw new Error(`signing in failed with ${signedIn.status}`);
	const body = (await signedIn.json()) as { user?: { id?: string } };
	if (!body.user?.id) throw new Error('the sign-in response names no user');
	return { userId: body.user.id, cookie: sessionCookie(signedIn) };
}

function authRequest(path: string, body: unknown): Request {
	return new Request(`${BENCH_ORIGIN}/api/auth${path}`, {
		method: 'POST',
		headers: {
			origin: BENCH_ORIGIN,
			'user-agent': BENCH_USER_AGENT,
			'content-type': 'application/json',
			// hooks.server.ts stamps this in the app; Better Auth reads the client address from it.
			[CLIENT_ADDRESS_HEADER]: BENCH_CLIENT_ADDRESS
		},
		body: JSON.stringify(body)
	});
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
