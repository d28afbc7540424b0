import type { RequestEvent } from '@sveltejs/kit';
import { betterAuth, type BetterAuthPlugin } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError, createAuthEndpoint, createAuthMiddleware, getOAuthState } from 'better-auth/api';
import { setSessionCookie } from 'better-auth/cookies';
import { revokeUnprovenAccountAccess } from 'better-auth/db';
import { genericOAuth } from 'better-auth/plugins/generic-oauth';
import * as z from 'zod';
import { sveltekitCookies } from 'better-auth/svelte-kit';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import type { SessionRecord, Storage, UserRecord } from '../db/port';
import { boundUserAgent } from '../user-agent';
import { safeErrorMessage } from '../errors';
import { recordSecurityEvent } from '../security-log';
import type { SessionLog } from '../session-log';
import { CLIENT_ADDRESS_HEADER } from '../http/client-address';
import { knownDeviceCookie } from './known-device';
import { sessionCookieName, verifiedSessionToken } from './cookies';
import { policyForSignIn, type SessionSettings } from './policy';
import { secondaryStorageOf } from './cached-copies';
import { enforceSessionLimit, refuseSessionOverLimit, revokeSession, type SessionServices } from './sessions';
import { refusedSignIn, refusedSignInCookie } from './refused-sign-in';
import { createSessionEndings } from './session-endings';
import { OIDC_PROVIDER_ID, type OAuthProviders, type OidcClient } from './providers';

export interface AuthDependencies {
	config: AppConfig;
	database: Storage;
	/** The SvelteKit request being served, so cookies Better Auth sets reach the response; none in tests. */
	currentRequestEvent: () => RequestEvent | undefined;
	log: SessionLog;
	/** When set, Better Auth keeps sessions, codes and its rate limits in Redis too (shared by instances). */
	redis?: Redis | null;
	/** Milliseconds since the epoch; tests move it instead of sleeping. */
	clock?: () => number;
}

/** The code signInWithAcceptedCode fails with when the session it created was ended at once. */
export const SESSION_ENDED_AT_ONCE = 'SESSION_ENDED_AT_ONCE';
/**
 * The code a sign-in fails with when SESSION_LIMIT_ACTION=refuse kept it from a session; an OAuth
 * callback puts it on /login as `error`, which sends the browser to /session-limit.
 */
export const SIGN_IN_REFUSED = 'SIGN_IN_REFUSED';

/** Columns Latchkey adds to Better Auth's session; set at creation, never by the client. */
const sessionPolicyFields = {
	policy: { type: 'string', required: true, input: false },
	knownNetworks: { type: 'string', required: false, input: false },
	idleSeconds: { type: 'number', required: true, input: false },
	refreshSeconds: { type: 'number', required: true, input: false },
	absoluteExpiresAt: { type: 'date', required: false, input: false },
	persistent: { type: 'boolean', required: true, input: false },
	// Written by the device binding (device-binding.ts), never at creation: Better Auth reads the
	// session row with them, as the validator does.
	deviceKey: { type: 'string', required: false, input: false },
	deviceBoundAt: { type: 'date', required: false, input: false }
} as const;

/**
 * Better Auth owns sign-in, session creation, cookie issuance and sign-out. Per-request
 * validation and refresh belong to the session validator (validator.ts), so Better Auth's own
 * refresh is off and its instance-wide durations only matter as defaults.
 */
export function createAuth({
	config,
	database,
	currentRequestEvent,
	log,
	redis = null,
	clock = Date.now
}: AuthDependencies) {
	const { appPolicy } = config.sessions;
	const cache = redis ? secondaryStorageOf(redis) : null;
	// Where this instance's sign-ins end the session they replace: the same storage, Redis and log.
	const services: SessionServices = {
		database,
		cache,
		log,
		endings: createSessionEndings(database.endings, config.secret, { clock })
	};
	return betterAuth({
		appName: 'Latchkey',
		baseURL: config.origin,
		trustedOrigins: [config.origin],
		secret: config.secret,
		database: drizzleAdapter(database.betterAuth.db, {
			provider: database.betterAuth.provider,
			schema: database.betterAuth.schema
		}),
		...(cache ? { secondaryStorage: cache } : {}),
		session: {
			// The database stays the source of truth that the validator reads; Redis is a copy.
			storeSessionInDatabase: true,
			expiresIn: appPolicy.idleSeconds,
			updateAge: appPolicy.refreshSeconds,
			disableSessionRefresh: true,
			additionalFields: sessionPolicyFields
		},
		databaseHooks: {
			session: {
				create: {
					async before(session, context) {
						const rememberMe = rememberMeRequested(context?.body) || (await rememberMeCarriedThroughOAuth());
						const policy = policyColumns(config.sessions, rememberMe, clock());
						// A user agent is whatever the client sent: stored bounded, like the security log's.
						const userAgent = boundUserAgent(session.userAgent);
						return { data: { ...session, ...policy, userAgent, knownNetworks: '' } };
					},
					async after(session, context) {
						// On MySQL Better Auth reads the new row back after inserting it: a concurrent
						// sign-in's session limit may have ended it in between. The ending is recorded
						// by that sign-in; this one has no session (signInWithAcceptedCode says so).
						if (!session) return;
						const created = session as typeof session & { policy: string };
						const method = signInMethod(context);
						const replaced = context && replacedSessionToken(context, created.token, config);
						if (replaced) await revokeSession(services, replaced, { log: null });
						// The limit counts after the session this one replaces has ended, so a
						// re-authentication never counts twice.
						const limit = config.sessionLimit;
						if (
							limit?.action === 'refuse' &&
							(await refuseSessionOverLimit(services, { ...created, method }, limit.max, clock()))
						) {
							const refused = refusedSignIn(
								refusedSignInCookie(config.cookies),
								config.secret,
								created.userId,
								clock()
							);
							// Set on the endpoint, not the SvelteKit event: an OAuth callback answers with
							// Better Auth's own response, and sveltekitCookies copies the endpoint's cookies
							// into a form action's, refused sign-in or not.
							context?.setCookie(refused.name, refused.value, refused.attributes);
							throw new APIError('FORBIDDEN', {
								code: SIGN_IN_REFUSED,
								message: 'This account is signed in on as many devices as it may be at once.'
							});
						}
						log.session('created', created.id, { user: created.userId, policy: created.policy });
						// The response to this request invites the browser to bind the new session (handles.ts).
						const locals = currentRequestEvent()?.locals;
						if (locals) locals.newSessionId = created.id;
						await recordSecurityEvent(database, {
							userId: created.userId,
							sessionId: created.id,
							type: isReauthentication(context?.body) ? 'REAUTHENTICATED' : 'SIGN_IN',
							ipAddress: created.ipAddress,
							userAgent: created.userAgent,
							detail: { method }
						});
						if (limit?.action === 'end-oldest') await enforceSessionLimit(services, created, limit.max, clock());
					}
				}
			}
		},
		socialProviders: socialProviders(config.oauth),
		account: {
			// A provider's identity joins an existing user with the same email only when the
			// provider says the address is verified; no provider is trusted without that.
			accountLinking: { enabled: true, trustedProviders: [] }
		},
		// OAuth callbacks that fail before they know where to go land on the sign-in page.
		onAPIError: { errorURL: `${config.origin}/login` },
		// Counted where every instance sees the same numbers.
		rateLimit: { enabled: true, storage: redis ? 'secondary-storage' : 'database' },
		advanced: {
			cookiePrefix: config.cookies.prefix,
			useSecureCookies: config.cookies.secure,
			...(config.cookies.domain ? { crossSubDomainCookies: { enabled: true, domain: config.cookies.domain } } : {}),
			// hooks.server.ts stamps SvelteKit's view of the client address (socket, or the
			// operator's ADDRESS_HEADER) into this header; a client-sent X-Forwarded-For is never trusted.
			ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] }
		},
		telemetry: { enabled: false },
		// Better Auth logs failed queries with their parameters (session tokens among them).
		logger: {
			log: (level, message, ...details) => console[level](`[Better Auth] ${message}`, ...details.map(safeLogDetail))
		},
		plugins: [
			codeSignIn(),
			...(config.oauth.oidc ? [genericOidc(config.oauth.oidc)] : []),
			sessionCookieNamed(sessionCookieName(config.cookies)),
			sessionPolicyCookie(clock),
			knownDeviceCookie(config.cookies, config.secret),
			// Must stay last: it copies every Set-Cookie the other endpoints and plugins produced.
			sveltekitCookies((() => withUrlEncodedCookies(currentRequestEvent())) as () => RequestEvent)
		]
	});
}

/** The remember-me checkbox arrives as `rememberMe: true` in the sign-in body (login action or JSON API). */
function rememberMeRequested(body: unknown): boolean {
	const value = (body as { rememberMe?: unknown } | undefined)?.rememberMe;
	return value === true;
}

function socialProviders({ github, google }: OAuthProviders) {
	return {
		...(github ? { github: { ...github, scope: ['read:user', 'user:email'] } } : {}),
		...(google ? { google: { ...google, prompt: 'select_account' as const } } : {})
	};
}

/** Any OpenID Connect issuer, from its discovery document; authorization code with PKCE, state and nonce. */
function genericOidc(oidc: OidcClient) {
	return genericOAuth({
		config: [
			{
				providerId: OIDC_PROVIDER_ID,
				name: oidc.name,
				discoveryUrl: `${oidc.issuer}/.well-known/openid-configuration`,
				clientId: oidc.clientId,
				clientSecret: oidc.clientSecret,
				scopes: ['openid', 'email', 'profile'],
				pkce: true
			}
		]
	});
}

/**
 * The login form's OAuth buttons send the remember-me choice as `additionalData`, which
 * Better Auth keeps in the OAuth state and gives back during the callback. It is the
 * visitor's own preference, so a client-supplied value is fine here.
 */
async function rememberMeCarriedThroughOAuth(): Promise<boolean> {
	try {
		return (await getOAuthState())?.rememberMe === true;
	} catch {
		return false;
	}
}

/** Errors by their safe message; objects without their token fields. */
function safeLogDetail(detail: unknown): unknown {
	if (detail instanceof Error) return safeErrorMessage(detail);
	if (!detail || typeof detail !== 'object') return detail;
	return Object.fromEntries(
		Object.entries(detail)
			.filter(([key]) => !/token|secret|password/i.test(key))
			.map(([key, value]) => [key, value instanceof Error ? safeErrorMessage(value) : value])
	);
}

/** The part of Better Auth's endpoint context a session hook uses. */
interface SignInContext {
	headers?: Headers;
	request?: Request;
}

/**
 * Every sign-in (code, OAuth callback, re-authentication) replaces the session the browser
 * came with: that token stops working, so a planted or stolen older cookie is worth nothing.
 * The new session's SIGN_IN or REAUTHENTICATED event stands for the ending: no line of its own.
 * Returns the token of the session the request's (verified) cookie names, if it is another one.
 */
function replacedSessionToken(context: SignInContext, newToken: string, config: AppConfig): string | null {
	const cookieHeader = context.headers?.get('cookie') ?? context.request?.headers.get('cookie') ?? null;
	const previous = verifiedSessionToken(cookieHeader, sessionCookieName(config.cookies), config.secret);
	return previous && previous !== newToken ? previous : null;
}

/** The re-authentication step (routes/(auth)/reauth) signs in again with this flag. */
function isReauthentication(body: unknown): boolean {
	return (body as { reauthenticate?: unknown } | undefined)?.reauthenticate === true;
}

/** `email-otp` for a code sign-in, or the OAuth provider's id for a callback. */
function signInMethod(
	context: { path?: string; params?: Record<string, string | undefined>; body?: unknown } | null
): string {
	if ((context?.body as { codeAccepted?: unknown } | undefined)?.codeAccepted === true) return 'email-otp';
	return context?.params?.id ?? context?.path ?? 'unknown';
}

/**
 * The session step of a sign-in by emailed code, called by otp-sign-in.ts once it has accepted
 * the code (codes.ts keeps the codes; Better Auth's one-code-per-address store would let any
 * stranger spoil them). It finds or creates the user as Better Auth's own email sign-in does,
 * and creates the session through Better Auth, so its hooks and cookies are Better Auth's.
 * Server-only: it has no URL, and handles.ts serves nothing under /api/auth but OAuth callbacks.
 */
function codeSignIn() {
	return {
		id: 'latchkey-code-sign-in',
		endpoints: {
			signInWithAcceptedCode: createAuthEndpoint.serverOnly(
				{
					method: 'POST',
					body: z.object({
						email: z.email(),
						codeAccepted: z.literal(true),
						rememberMe: z.boolean().optional(),
						reauthenticate: z.boolean().optional()
					})
				},
				async (ctx) => {
					const email = ctx.body.email.toLowerCase();
					const { internalAdapter } = ctx.context;
					let user = (await internalAdapter.findUserByEmail(email))?.user;
					if (!user) {
						user = await internalAdapter
							.createUser({ email, emailVerified: true, name: '' }, { method: 'email-otp' })
							.catch(async (error: unknown) => {
								// Browsers that proved a new address at the same moment race to create its
								// account: the insert that loses finds the one that won, unique on the email.
								const created = (await internalAdapter.findUserByEmail(email))?.user;
								if (!created) throw error;
								return created;
							});
					} else if (!user.emailVerified) {
						// Access linked to the address before anyone proved they own it is dropped.
						const promoted = await revokeUnprovenAccountAccess(ctx, user.id);
						if (!promoted) throw new APIError('BAD_REQUEST', { code: 'INVALID_OTP' });
						user = promoted;
					}
					const session = await internalAdapter.createSession(user.id);
					// Ended by a concurrent sign-in's session limit before Better Auth could read it back.
					if (!session) throw new APIError('CONFLICT', { code: SESSION_ENDED_AT_ONCE });
					await setSessionCookie(ctx, { session, user });
					return ctx.json({ signedIn: true });
				}
			)
		}
	} satisfies BetterAuthPlugin;
}

/** What a new session row records: its policy, and times that follow from it. */
function policyColumns(settings: SessionSettings, rememberMe: boolean, now: number) {
	const { policy, persistent } = policyForSignIn(settings, rememberMe);
	const absoluteExpiresAt = policy.absoluteSeconds === null ? null : new Date(now + policy.absoluteSeconds * 1000);
	const idleExpiry = new Date(now + policy.idleSeconds * 1000);
	return {
		policy: policy.name,
		idleSeconds: policy.idleSeconds,
		refreshSeconds: policy.refreshSeconds,
		absoluteExpiresAt,
		persistent,
		expiresAt: absoluteExpiresAt && absoluteExpiresAt < idleExpiry ? absoluteExpiresAt : idleExpiry,
		createdAt: new Date(now),
		updatedAt: new Date(now)
	};
}

/**
 * Gives the session cookie Latchkey's name, so that Better Auth issues, reads and deletes the
 * one the validator reads. Its own options cannot name it `__Host-`: it puts `__Secure-` before
 * any name it is given when cookies are secure. Every use of the session cookie in Better Auth
 * (sign-in, OAuth callback, getSession, sign-out) goes through `authCookies.sessionToken`.
 */
function sessionCookieNamed(name: string) {
	return {
		id: 'latchkey-session-cookie-name',
		init(context) {
			const { sessionToken } = context.authCookies;
			return { context: { authCookies: { ...context.authCookies, sessionToken: { ...sessionToken, name } } } };
		}
	} satisfies BetterAuthPlugin;
}

/**
 * Better Auth gives every new session cookie the instance-wide Max-Age. This re-issues it
 * with the session's own: until its expiresAt when persistent, none (a browser-session
 * cookie) when not. Runs before sveltekitCookies, which copies the final header.
 */
function sessionPolicyCookie(clock: () => number) {
	return {
		id: 'latchkey-session-policy-cookie',
		hooks: {
			after: [
				{
					matcher: () => true,
					handler: createAuthMiddleware(async (ctx) => {
						const created = ctx.context.newSession?.session as
							{ token: string; expiresAt: Date; persistent?: boolean } | undefined;
						if (!created) return;
						const cookie = ctx.context.authCookies.sessionToken;
						const maxAge = created.persistent
							? Math.max(0, Math.round((created.expiresAt.getTime() - clock()) / 1000))
							: undefined;
						await ctx.setSignedCookie(cookie.name, created.token, ctx.context.secret, { ...cookie.attributes, maxAge });
					})
				}
			]
		}
	} satisfies BetterAuthPlugin;
}

export type Auth = ReturnType<typeof createAuth>;

export type SessionData = Auth['$Infer']['Session'];
export type User = SessionData['user'];
export type Session = SessionData['session'];

/** `Row` as the `Typed` it must be: stops compiling when the port's rows and Better Auth's types part. */
type Typed<Type, Row extends Type> = Row;
/** The port's session and user rows (db/port.ts) are Better Auth's Session and User. */
export type StoredTypes = [Typed<Session, SessionRecord>, Typed<User, UserRecord>];

/**
 * The request event as sveltekitCookies sees it: its cookies are written URL-encoded (`=` as
 * %3D), as Better Auth issues them and as SvelteKit 2 wrote them. sveltekitCookies hands
 * SvelteKit the decoded value, and SvelteKit 3's cookie library would otherwise leave `=` and
 * `/` as they are, so the session cookie would not be the bytes Better Auth signed and sent.
 */
function withUrlEncodedCookies(event: RequestEvent | undefined): RequestEvent | undefined {
	if (!event) return event;
	const { cookies } = event;
	const encoding: RequestEvent['cookies'] = Object.assign(Object.create(cookies) as RequestEvent['cookies'], {
		set: (name: string, value: string, options: Parameters<RequestEvent['cookies']['set']>[2]) =>
			cookies.set(name, value, { encode: encodeURIComponent, ...options })
	});
	return new Proxy(event, { get: (target, key) => (key === 'cookies' ? encoding : Reflect.get(target, key)) });
}
