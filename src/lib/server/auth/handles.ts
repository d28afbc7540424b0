import { building } from '$app/env';
import { redirect, type RequestEvent } from '@sveltejs/kit';
import type { Handle } from '@sveltejs/kit/hooks';
import { svelteKitHandler } from 'better-auth/svelte-kit';
import { getConfig } from '../config';
import { getStorage } from '../db';
import { safeErrorMessage } from '../errors';
import { serviceUnavailable } from '../http/unavailable';
import { getAuth, getDeviceBinding, getNetworkWatch, getSessionLog } from './server';
import { deviceCredentialCheck } from './device-binding';
import { loginUrl } from './guards';
import { configuredProviderIds, type OAuthProviders } from './providers';
import { createSessionValidator, type CookieAction, type SessionValidator } from './validator';
import { clearSessionCookie, setSessionCookie } from './cookies';
import { getSessionServices, sessionRevoker } from './sessions';

const AUTH_PATH = '/api/auth';
const CALLBACK_PREFIX = `${AUTH_PATH}/callback/`;

/**
 * Of Better Auth's endpoints under /api/auth, only the OAuth callbacks of the configured
 * providers are served: the pages' form actions call everything else server-side. The JSON
 * endpoints would hand session tokens to the browser (sign-in, get-session and list-sessions
 * return them) and would bypass the per-email limits, the network watch and the security log.
 * A callback path is matched whole, so no other endpoint is reached through it and an
 * unconfigured provider's callback does not exist.
 */
export function reachesBetterAuth(pathname: string, providers: OAuthProviders): boolean {
	if (!pathname.startsWith(CALLBACK_PREFIX)) return false;
	return configuredProviderIds(providers).includes(pathname.slice(CALLBACK_PREFIX.length));
}

export const authEndpoints: Handle = ({ event, resolve }) => {
	const { pathname } = event.url;
	if (pathname !== AUTH_PATH && !pathname.startsWith(`${AUTH_PATH}/`)) return resolve(event);
	if (!reachesBetterAuth(pathname, getConfig().oauth)) {
		return new Response('Not found', { status: 404, headers: { 'cache-control': 'no-store' } });
	}
	return svelteKitHandler({ event, resolve, auth: getAuth(), building });
};

/**
 * A response to a request that signed in (an emailed code, an OAuth callback, a
 * re-authentication) invites the browser to bind the new session to its device, when
 * DEVICE_BOUND_SESSIONS is on (device-binding.ts). Before authEndpoints, so that it sees the
 * OAuth callbacks' answers too.
 */
export const deviceRegistration: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const sessionId = event.locals.newSessionId;
	return sessionId ? getDeviceBinding().invite(sessionId, response) : response;
};

let validator: SessionValidator | undefined;

/**
 * Builds this process's session validator once, at start-up (init in src/hooks.server.ts), so
 * that no request consults a lazy singleton: validator.ts's rules on the storage of the
 * configured database, whose engine's storage.ts looks the token up (db/<engine>/storage.ts),
 * ending sessions as sessions.ts does and logging to the session log.
 */
export function startSessionValidation(): void {
	const { secret, cookies } = getConfig();
	const services = getSessionServices();
	validator = createSessionValidator({
		store: getStorage().sessions,
		revokeSession: sessionRevoker(services),
		endings: services.endings,
		log: getSessionLog(),
		secret,
		cookies,
		deviceCredential: deviceCredentialCheck(secret, cookies)
	});
}

/** The validator init built, for the action that slides a session on request ("Stay signed in"). */
export function sessionValidator(): SessionValidator {
	if (!validator)
		throw new Error('the session validator is used before startSessionValidation (init in hooks.server.ts)');
	return validator;
}

/** Where every request's session is validated (and slid forward when due): see validator.ts. */
export const sessionLocals: Handle = async ({ event, resolve }) => {
	if (!validator) throw new Error('sessionLocals runs before startSessionValidation (init in hooks.server.ts)');
	let validated;
	try {
		validated = await validator.validateSessionCookie(event.request.headers.get('cookie'));
	} catch (error) {
		// The session store is unreachable: say so plainly, and never serve the page as signed out.
		console.error(`latchkey: session check failed: ${safeErrorMessage(error)}`);
		return serviceUnavailable(event);
	}
	event.locals.user = validated.user;
	event.locals.session = validated.session;
	event.locals.endedReason = validated.endedReason ?? null;
	writeSessionCookie(event, validated.cookie);
	return resolve(event);
};

/** Carries out the validator's verdict on the cookie: reissued, cleared, or left alone. */
export function writeSessionCookie(event: Pick<RequestEvent, 'cookies'>, verdict: CookieAction): void {
	if (verdict?.kind === 'reissue') setSessionCookie(event, verdict.value, verdict.maxAge);
	else if (verdict?.kind === 'clear') clearSessionCookie(event);
}

/**
 * A session used from a new network is reported once; under IP_CHANGE_REVOKES it ends here.
 * Fails closed: when the check cannot finish (the database refuses a write, a timeout), the
 * request is refused with a 503 and the session cookie cleared — never served signed in.
 * A 503 rather than a redirect to sign-in: the fault is on our side, sign-in needs the same
 * database, and it is the answer every other database fault gets (any method, any client).
 */
export const networkWatch: Handle = async ({ event, resolve }) => {
	const { session } = event.locals;
	if (!session) return resolve(event);
	let verdict;
	try {
		verdict = await getNetworkWatch()(session, event.getClientAddress(), event.request.headers.get('user-agent'));
	} catch (error) {
		console.error(`latchkey: request refused as the network check failed: ${safeErrorMessage(error)}`);
		const answer = serviceUnavailable(event);
		clearSessionCookie(event, answer);
		return answer;
	}
	if (verdict !== 'revoked') return resolve(event);
	// The cookie stays: its session is gone, and the sign-in page reads from it why (ip-change),
	// then clears it. A post goes on signed out and is sent to sign-in by its guard.
	event.locals.user = null;
	event.locals.session = null;
	event.locals.endedReason = 'ip-change';
	if (event.request.method !== 'GET') return resolve(event);
	redirect(303, loginUrl(event.url));
};

/**
 * Everything under src/routes/(app) needs a signed-in user; signed-out requests go to sign-in
 * before any load or action runs. Here rather than in an (app) layout load, which would not
 * cover form actions and would add a server node to every page view. Loads and actions still
 * call requireAuth themselves for the typed user and session
 * (docs/decisions/0009-sign-in-required-in-a-hook.md).
 */
export const signInRequired: Handle = ({ event, resolve }) => {
	if (!event.locals.session && event.route.id?.startsWith('/(app)/')) redirect(303, loginUrl(event.url));
	return resolve(event);
};

/** Pages rendered for a signed-in user must never be stored by a browser or proxy cache. */
export const noStoreWhenSignedIn: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	if (event.locals.session) response.headers.set('cache-control', 'private, no-store');
	return response;
};
