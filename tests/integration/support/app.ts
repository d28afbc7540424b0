import type { Redis } from 'ioredis';
import { vi } from 'vitest';
import { loadConfig, type AppConfig, type Env } from '../../../src/lib/server/config';
import { openStorage, type DatabaseTarget, type PerformanceOptions, type Storage } from '../../../src/lib/server/db';
import { createAuth, type Auth } from '../../../src/lib/server/auth/better-auth';
import { CLIENT_ADDRESS_HEADER } from '../../../src/lib/server/http/client-address';
import {
	sendSignInCode,
	verifySignInCode,
	type SignInRequest,
	type SignInService
} from '../../../src/lib/server/auth/otp-sign-in';
import { knownDevicesFor } from '../../../src/lib/server/auth/known-device';
import { createSessionValidator, type SessionValidator } from '../../../src/lib/server/auth/session';
import { sessionRevoker, type SessionServices } from '../../../src/lib/server/auth/sessions';
import { DevOutbox } from '../../../src/lib/server/mail/outbox';
import { databaseRateLimiter } from '../../../src/lib/server/rate-limit';
import { createSessionLog, type SessionLog } from '../../../src/lib/server/session-log';

export const TEST_ORIGIN = 'http://localhost:5173';
export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

/** A clock the tests move by hand: time passes only when a test says so. */
export class TestClock {
	constructor(public ms = Date.now()) {}
	readonly now = () => this.ms;
	advance(seconds: number): void {
		this.ms += seconds * 1000;
	}
}

function databaseUrl(target: DatabaseTarget): string {
	return target.dialect === 'sqlite' ? `file:${target.file}` : target.url;
}

/** The configuration Latchkey would read from `env`, on the given database. */
export function testConfig(target: DatabaseTarget, env: Env = {}): AppConfig {
	return loadConfig({
		ORIGIN: TEST_ORIGIN,
		BETTER_AUTH_SECRET: TEST_SECRET,
		DATABASE_URL: databaseUrl(target),
		...env
	});
}

export interface TestApp {
	config: AppConfig;
	/** Every structured session log line the app wrote. */
	logLines: string[];
	log: SessionLog;
	services: SessionServices;
	auth: Auth;
	validator: SessionValidator;
	database: Storage;
	outbox: DevOutbox;
	origin: string;
}

export interface TestAppOptions {
	env?: Env;
	clock?: TestClock;
	/** An already open, migrated database to share with another TestApp. */
	database?: Storage;
	/** The storage's performance mechanisms (all on by default, as in the app). */
	performance?: PerformanceOptions;
	/** How long a write waits for another connection's lock (StorageOptions.lockWaitMs). */
	lockWaitMs?: number;
	/** Better Auth's secondary storage (sessions, codes), as REDIS_URL gives it (none by default). */
	redis?: Redis | null;
}

/** Latchkey's real auth stack and session validator on a migrated database, without the HTTP server. */
export async function startTestApp(target: DatabaseTarget, options: TestAppOptions = {}): Promise<TestApp> {
	const config = testConfig(target, options.env);
	const database =
		options.database ??
		openStorage(target, {
			performance: options.performance,
			lockWaitMs: options.lockWaitMs
		});
	if (!options.database) await database.migrate();
	const outbox = new DevOutbox();
	const clock = options.clock?.now;
	const logLines: string[] = [];
	const log = createSessionLog(config.secret, (line) => logLines.push(line));
	const auth = createAuth({
		config,
		database,
		mailer: outbox,
		currentRequestEvent: () => undefined,
		log,
		clock,
		redis: options.redis ?? null
	});
	const services = { auth, database, log };
	const validator = createSessionValidator({
		store: database.sessions,
		revokeSession: sessionRevoker(services),
		log,
		secret: config.secret,
		cookies: config.cookies,
		clock
	});
	return { config, logLines, log, services, auth, validator, database, outbox, origin: config.origin };
}

export interface Visitor {
	address: string;
	userAgent: string;
	/** The Cookie header the browser sends, if any. */
	cookie?: string;
}

let visitors = 0;

/** A browser at an address of its own: Better Auth limits its OTP endpoints to 3 calls a minute per address. */
export function newVisitor(): Visitor {
	visitors += 1;
	const address = `203.0.${Math.floor(visitors / 250)}.${(visitors % 250) + 1}`;
	return { address, userAgent: `Mozilla/5.0 (X11; Linux x86_64) IntegrationTest/${visitors}` };
}

/** A request to Better Auth's HTTP API as a browser at `visitor` would send it. */
export function authRequest(
	app: Pick<TestApp, 'origin'>,
	path: string,
	visitor: Visitor,
	init: { body?: unknown; cookie?: string } = {}
): Request {
	const headers = new Headers({
		origin: app.origin,
		'user-agent': visitor.userAgent,
		[CLIENT_ADDRESS_HEADER]: visitor.address
	});
	if (init.cookie) headers.set('cookie', init.cookie);
	if (init.body !== undefined) headers.set('content-type', 'application/json');
	return new Request(`${app.origin}/api/auth${path}`, {
		method: 'POST',
		headers,
		body: init.body === undefined ? undefined : JSON.stringify(init.body)
	});
}

/** What the login and re-auth form actions sign in with (auth/server.ts getSignInService), counting in the database. */
export function signInServiceOf(app: Pick<TestApp, 'auth' | 'config' | 'database'>): SignInService {
	return {
		auth: app.auth,
		limits: app.config.signInLimits,
		limiter: databaseRateLimiter(app.database),
		knownDevices: knownDevicesFor(app.config.cookies, app.config.secret)
	};
}

/** A form post from `visitor` as the sign-in steps see it, its address stamped as hooks.server.ts does. */
export function formRequest(app: Pick<TestApp, 'origin'>, visitor: Visitor): SignInRequest {
	const request = new Request(`${app.origin}/login`, {
		method: 'POST',
		headers: {
			origin: app.origin,
			'user-agent': visitor.userAgent,
			[CLIENT_ADDRESS_HEADER]: visitor.address,
			...(visitor.cookie ? { cookie: visitor.cookie } : {})
		}
	});
	return { request, getClientAddress: () => visitor.address };
}

/** The login form's two steps as its actions take them: the sign-in service, our limits, no HTTP. */
export function signInActions(app: TestApp, service: SignInService = signInServiceOf(app)) {
	return {
		send: (email: string, visitor: Visitor) => sendSignInCode(service, formRequest(app, visitor), email),
		verify: (email: string, code: string, visitor: Visitor) =>
			verifySignInCode(service, formRequest(app, visitor), { email, code, rememberMe: false })
	};
}

/** The code last mailed to `email`. */
export function latestCodeTo(app: TestApp, email: string): string | undefined {
	return app.outbox.list().find((message) => message.to === email)?.code;
}

/** The session cookie's Set-Cookie line in a response (the last one wins, as in a browser). */
export function sessionSetCookie(response: Response): string {
	const line = response.headers
		.getSetCookie()
		.filter((candidate) => /^(__Host-|__Secure-)?[\w-]+\.session_token=/.test(candidate))
		.at(-1);
	if (!line) throw new Error(`no session cookie in response (status ${response.status})`);
	return line;
}

/** `name=value` of the session cookie from a response, as the browser would send it back. */
export function sessionCookieFrom(response: Response): string {
	return sessionSetCookie(response).split(';')[0]!;
}

/** Email OTP sign-in through Better Auth's HTTP API; returns the sign-in response. */
export async function signIn(
	app: TestApp,
	email: string,
	options: { visitor?: Visitor; rememberMe?: boolean; cookie?: string } = {}
): Promise<Response> {
	const visitor = options.visitor ?? newVisitor();
	const send = await app.auth.handler(
		authRequest(app, '/email-otp/send-verification-otp', visitor, { body: { email, type: 'sign-in' } })
	);
	if (send.status !== 200) throw new Error(`sending the code failed with ${send.status}`);
	const code = app.outbox.list()[0]!.code!;
	const body = { email, otp: code, ...(options.rememberMe === undefined ? {} : { rememberMe: options.rememberMe }) };
	return app.auth.handler(authRequest(app, '/sign-in/email-otp', visitor, { body, cookie: options.cookie }));
}

/** A validator over the app's database whose refresh writes are counted (a spy on the store's extend). */
export function countingValidator(app: TestApp, clock: TestClock) {
	const store = app.database.sessions;
	const extend = vi.fn(store.extend);
	const validator = createSessionValidator({
		store: { ...store, extend },
		revokeSession: sessionRevoker(app.services),
		log: app.log,
		secret: app.config.secret,
		cookies: app.config.cookies,
		clock: clock.now
	});
	return { validator, extend };
}
