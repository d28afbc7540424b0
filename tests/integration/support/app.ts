import { AsyncLocalStorage } from 'node:async_hooks';
import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { parseCookie, parseSetCookie, stringifySetCookie, type SerializeOptions } from 'cookie';
import type { Redis } from 'ioredis';
import { vi } from 'vitest';
import { loadConfig, type AppConfig, type Env } from '../../../src/lib/server/config';
import { openStorage, type DatabaseTarget, type PerformanceOptions, type Storage } from '../../../src/lib/server/db';
import { createAuth, type Auth } from '../../../src/lib/server/auth/better-auth';
import { CLIENT_ADDRESS_HEADER } from '../../../src/lib/server/http/client-address';
import {
	pendingSignInCookie,
	sendSignInCode,
	verifySignInCode,
	type SignInRequest,
	type SignInService
} from '../../../src/lib/server/auth/otp-sign-in';
import { knownDevicesFor } from '../../../src/lib/server/auth/known-device';
import { createSessionValidator, type SessionValidator } from '../../../src/lib/server/auth/validator';
import { secondaryStorageOf } from '../../../src/lib/server/auth/cached-copies';
import { sessionRevoker, type SessionServices } from '../../../src/lib/server/auth/sessions';
import { createSessionEndings } from '../../../src/lib/server/auth/session-endings';
import {
	createDeviceBinding,
	deviceCredentialCheck,
	type DeviceBinding
} from '../../../src/lib/server/auth/device-binding';
import { DevOutbox } from '../../../src/lib/server/mail/outbox';
import { databaseRateLimiter, MemoryRateLimiter } from '../../../src/lib/server/rate-limit';
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
	/** Device-bound sessions as the app builds them (auth/server.ts), on the app's clock and log. */
	deviceBinding: DeviceBinding;
	database: Storage;
	outbox: DevOutbox;
	origin: string;
	/** The clock the app was started on (codes expire by it); the real one when the test gave none. */
	clock?: () => number;
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
		currentRequestEvent: testRequestEvent,
		log,
		clock,
		redis: options.redis ?? null
	});
	const endings = createSessionEndings(database.endings, config.secret, {
		logError: (line) => logLines.push(line),
		...(clock ? { clock } : {})
	});
	const services: SessionServices = {
		database,
		cache: options.redis ? secondaryStorageOf(options.redis) : null,
		log,
		endings
	};
	const validator = createSessionValidator({
		store: database.sessions,
		revokeSession: sessionRevoker(services),
		endings,
		log,
		secret: config.secret,
		cookies: config.cookies,
		deviceCredential: deviceCredentialCheck(config.secret, config.cookies),
		clock
	});
	const deviceBinding = createDeviceBinding({
		database,
		origin: config.origin,
		secret: config.secret,
		cookies: config.cookies,
		settings: config.deviceBound,
		logError: (line) => logLines.push(line),
		...(clock ? { clock } : {})
	});
	return {
		config,
		logLines,
		log,
		services,
		auth,
		validator,
		deviceBinding,
		database,
		outbox,
		origin: config.origin,
		clock
	};
}

export interface Visitor {
	address: string;
	userAgent: string;
	/** The Cookie header the browser sends, if any. */
	cookie?: string;
	/**
	 * The pending-sign-in cookie the sign-in steps set, which the browser carries from sending a
	 * code to trying it. Any other cookie is the test's to carry, through `cookie`.
	 */
	pending?: Map<string, string>;
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
export function signInServiceOf(
	app: Pick<TestApp, 'auth' | 'config' | 'database' | 'outbox'> & { clock?: () => number }
): SignInService {
	const now = app.clock ?? Date.now;
	return {
		auth: app.auth,
		codes: { rows: app.database.codes, secret: app.config.secret, now },
		mailer: app.outbox,
		limits: app.config.signInLimits,
		limiter: databaseRateLimiter(app.database, now),
		knownDevices: knownDevicesFor(app.config.cookies, app.config.secret),
		pendingCookie: pendingSignInCookie(app.config.cookies)
	};
}

const requestEvents = new AsyncLocalStorage<TestRequest>();

/**
 * The form post being served, as SvelteKit's getRequestEvent gives it to Better Auth's
 * sveltekitCookies: the cookies Better Auth sets during a sign-in step land on it.
 */
export function testRequestEvent(): RequestEvent | undefined {
	return requestEvents.getStore() as RequestEvent | undefined;
}

/** A form post as the sign-in steps see it, and the Set-Cookie lines its response carries. */
export interface TestRequest extends SignInRequest {
	setCookies: string[];
	/** As SvelteKit's event.locals: a sign-in notes the session it created (better-auth.ts). */
	locals: Partial<App.Locals>;
}

/** A form post from `visitor` as the sign-in steps see it, its address stamped as hooks.server.ts does. */
export function formRequest(app: Pick<TestApp, 'origin'>, visitor: Visitor): TestRequest {
	const pending = (visitor.pending ??= new Map());
	const header = [visitor.cookie, ...[...pending].map(([name, value]) => `${name}=${value}`)]
		.filter(Boolean)
		.join('; ');
	const request = new Request(`${app.origin}/login`, {
		method: 'POST',
		headers: {
			origin: app.origin,
			'user-agent': visitor.userAgent,
			[CLIENT_ADDRESS_HEADER]: visitor.address,
			...(header ? { cookie: header } : {})
		}
	});
	const setCookies: string[] = [];
	const sent = () => parseCookie(header);
	// As SvelteKit's own cookies do: the encode option goes to the serializer, not the attributes.
	const serializeCookie = (name: string, value: string, { encode, ...options }: SerializeOptions = {}) =>
		stringifySetCookie({ ...options, name, value }, { encode });
	const cookies: Cookies = {
		get: (name) => sent()[name],
		getAll: () => Object.entries(sent()).map(([name, value]) => ({ name, value: value ?? '' })),
		set(name, value, options) {
			setCookies.push(serializeCookie(name, value, options));
			if (name.endsWith('.pending_sign_in')) pending.set(name, value);
		},
		delete(name, options) {
			setCookies.push(serializeCookie(name, '', { ...options, maxAge: 0 }));
			pending.delete(name);
		},
		serialize: (name, value, options) => serializeCookie(name, value, options),
		parse: parseSetCookie
	};
	return { request, getClientAddress: () => visitor.address, cookies, setCookies, locals: {} };
}

/** Runs a sign-in step for `visitor` as SvelteKit runs a form action: inside its request event. */
export function asFormAction<T>(
	app: Pick<TestApp, 'origin'>,
	visitor: Visitor,
	step: (event: TestRequest) => Promise<T>
): Promise<{ outcome: T; setCookies: string[] }> {
	const event = formRequest(app, visitor);
	return requestEvents.run(event, async () => ({ outcome: await step(event), setCookies: event.setCookies }));
}

/** The login form's two steps as its actions take them: the sign-in service, our limits, no HTTP. */
export function signInActions(app: TestApp, service: SignInService = signInServiceOf(app)) {
	return {
		send: async (email: string, visitor: Visitor) =>
			(await asFormAction(app, visitor, (event) => sendSignInCode(service, event, email))).outcome,
		verify: async (email: string, code: string, visitor: Visitor, rememberMe = false) =>
			(await asFormAction(app, visitor, (event) => verifySignInCode(service, event, { email, code, rememberMe })))
				.outcome
	};
}

/**
 * `count` browsers of one address each ask for a code of their own, one after another, then all
 * confirm theirs at the same moment: the verify step's outcomes, in the browsers' order. Counted
 * apart from the app's own limits, as signIn is: such a test is about what happens at once.
 */
export async function verifyAtOnce(app: TestApp, email: string, count: number) {
	const actions = signInActions(app, { ...signInServiceOf(app), limiter: new MemoryRateLimiter() });
	const browsers = [];
	for (let i = 0; i < count; i++) {
		const visitor = newVisitor();
		const refused = await actions.send(email, visitor);
		if (refused !== null) throw new Error(`sending browser ${i} a code was refused: ${JSON.stringify(refused)}`);
		browsers.push({ visitor, code: latestCodeTo(app, email)! });
	}
	return Promise.all(browsers.map(({ visitor, code }) => actions.verify(email, code, visitor)));
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

/**
 * Signs in by emailed code as the login form does (both steps, from one browser), and returns
 * the verify step's outcome with the Set-Cookie lines SvelteKit would send: 200 when signed
 * in. `cookie` is what the browser already carries (a session cookie, the known-device cookie).
 */
export async function signIn(
	app: Pick<TestApp, 'auth' | 'config' | 'database' | 'outbox' | 'origin'> & { clock?: () => number },
	email: string,
	options: { visitor?: Visitor; rememberMe?: boolean; cookie?: string } = {}
): Promise<Response> {
	// Counted apart from the app's own counters: a test's sign-ins spend none of the limits it measures.
	const service = { ...signInServiceOf(app), limiter: new MemoryRateLimiter() };
	const visitor: Visitor = { ...(options.visitor ?? newVisitor()), pending: new Map() };
	if (options.cookie) visitor.cookie = [options.visitor?.cookie, options.cookie].filter(Boolean).join('; ');
	const sent = await asFormAction(app, visitor, (event) => sendSignInCode(service, event, email));
	if (sent.outcome) throw new Error(`sending the code failed: ${sent.outcome.status} ${sent.outcome.message}`);
	const code = app.outbox.list().find((message) => message.to === email)!.code!;
	const attempt = { email, code, rememberMe: options.rememberMe ?? false };
	const verified = await asFormAction(app, visitor, (event) => verifySignInCode(service, event, attempt));
	const headers = new Headers();
	for (const line of verified.setCookies) headers.append('set-cookie', line);
	return new Response(verified.outcome?.message ?? null, { status: verified.outcome?.status ?? 200, headers });
}

/** A validator over the app's database whose refresh writes are counted (a spy on the store's extend). */
export function countingValidator(app: TestApp, clock: TestClock) {
	const store = app.database.sessions;
	const extend = vi.fn(store.extend);
	const validator = createSessionValidator({
		store: { ...store, extend },
		revokeSession: sessionRevoker(app.services),
		endings: app.services.endings,
		log: app.log,
		secret: app.config.secret,
		cookies: app.config.cookies,
		clock: clock.now
	});
	return { validator, extend };
}
