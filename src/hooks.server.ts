import { building, dev } from '$app/environment';
import { redirect, type Cookies, type Handle, type HandleServerError, type ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { svelteKitHandler } from 'better-auth/svelte-kit';
import { getAuth, getNetworkWatch, getSessionValidator } from '$lib/server/auth';
import { loginUrl } from '$lib/server/auth/guards';
import { stampClientAddress } from '$lib/server/auth/client-address';
import { atEndOfTurn } from '$lib/server/auth/session';
import { applyCookieAction, sessionCookieAttributes, sessionCookieName } from '$lib/server/auth/session-cookie';
import { getConfig } from '$lib/server/config';
import { databaseFault, safeErrorMessage } from '$lib/server/errors';
import { UNREADABLE_FORM_MESSAGE } from '$lib/server/forms';
import { prepareServer } from '$lib/server/startup';

/** The build, never an environment variable, says whether this is the development server. */
export const init: ServerInit = () => prepareServer(dev);

/** Headers every response carries; the Content-Security-Policy comes from svelte.config.js. */
const securityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	response.headers.set('x-content-type-options', 'nosniff');
	response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
	response.headers.set('x-frame-options', 'DENY');
	if (getConfig().origin.startsWith('https:')) {
		response.headers.set('strict-transport-security', 'max-age=63072000; includeSubDomains');
	}
	return response;
};

/**
 * A database that cannot be used now (locked, read-only, out of reach) answers 503 with the
 * friendly page wherever it shows up — a load, an action, a later handle — never a 500.
 * handleError below recognises the fault and logs its cause; this turns the answer into a 503.
 */
const databaseFaults: Handle = async ({ event, resolve }) => {
	let response: Response;
	try {
		response = await resolve(event);
	} catch (error) {
		const fault = databaseFault(error);
		if (!fault) throw error;
		console.error(`latchkey: database unavailable: ${fault}`);
		return serviceUnavailable();
	}
	return event.locals.databaseUnavailable ? unavailableAnswer(response) : response;
};

/**
 * A page or plain form post gets the friendly page. An enhanced form's JSON answer keeps the
 * shape SvelteKit's client expects (its message is handleError's) with the status corrected.
 */
function unavailableAnswer(response: Response): Response {
	if (response.headers.get('content-type')?.startsWith('text/html')) return serviceUnavailable();
	const headers = new Headers(response.headers);
	headers.set('retry-after', RETRY_AFTER_SECONDS);
	return new Response(response.body, { status: 503, headers });
}

/** Behind ADDRESS_HEADER, a request without the header is refused with a 400 (never a 500). */
const clientAddress: Handle = ({ event, resolve }) => stampClientAddress(event) ?? resolve(event);

/**
 * Of Better Auth's endpoints under /api/auth, only the OAuth callbacks are served: the pages'
 * form actions call everything else server-side. The JSON endpoints would hand session tokens
 * to the browser (sign-in, get-session and list-sessions return them) and would bypass the
 * per-email limits, the network watch and the security log.
 */
const authEndpoints: Handle = ({ event, resolve }) => {
	const { pathname } = event.url;
	if (!pathname.startsWith('/api/auth/')) return resolve(event);
	if (!pathname.startsWith('/api/auth/callback/')) {
		return new Response('Not found', { status: 404, headers: { 'cache-control': 'no-store' } });
	}
	return svelteKitHandler({ event, resolve, auth: getAuth(), building });
};

/** Where every request's session is validated (and slid forward when due): see auth/session.ts. */
const sessionLocals: Handle = async ({ event, resolve }) => {
	let checked;
	try {
		checked = await atEndOfTurn(getSessionValidator().validateSessionCookie(event.request.headers.get('cookie')));
	} catch (error) {
		// The session store is unreachable: say so plainly, and never serve the page as signed out.
		console.error(`latchkey: session check failed: ${safeErrorMessage(error)}`);
		return serviceUnavailable();
	}
	const { user, session, cookie } = checked;
	event.locals.user = user;
	event.locals.session = session;
	applyCookieAction(event.cookies, getConfig().cookies, cookie);
	return resolve(event);
};

/**
 * A session used from a new network is reported once; under IP_CHANGE_REVOKES it ends here.
 * Fails closed: when the check cannot finish (the database refuses a write, a timeout), the
 * request is refused with a 503 and the session cookie cleared — never served signed in.
 * A 503 rather than a redirect to sign-in: the fault is on our side, sign-in needs the same
 * database, and it is the answer every other database fault gets (any method, any client).
 */
const networkWatch: Handle = async ({ event, resolve }) => {
	const { session } = event.locals;
	if (!session) return resolve(event);
	let verdict;
	try {
		verdict = await getNetworkWatch()(session, event.getClientAddress(), event.request.headers.get('user-agent'));
	} catch (error) {
		console.error(`latchkey: request refused as the network check failed: ${safeErrorMessage(error)}`);
		return withSessionCookieCleared(serviceUnavailable(), event.cookies);
	}
	if (verdict !== 'revoked') return resolve(event);
	event.locals.user = null;
	event.locals.session = null;
	applyCookieAction(event.cookies, getConfig().cookies, { kind: 'clear' });
	if (event.request.method !== 'GET') return resolve(event);
	redirect(303, `/login?ended=network&redirectTo=${encodeURIComponent(event.url.pathname + event.url.search)}`);
};

/** SvelteKit adds `event.cookies` only to what resolve returns: a handle's own answer carries it itself. */
function withSessionCookieCleared(response: Response, cookies: Cookies): Response {
	const settings = getConfig().cookies;
	const cleared = cookies.serialize(sessionCookieName(settings), '', sessionCookieAttributes(settings, 0));
	response.headers.append('set-cookie', cleared);
	return response;
}

/**
 * Everything under src/routes/(app) needs a signed-in user; signed-out requests go to sign-in
 * before any load or action runs. Here rather than in an (app) layout load, which would not
 * cover form actions and would add a server node to every page view. Loads and actions still
 * call requireAuth themselves for the typed user and session.
 */
const signInRequired: Handle = ({ event, resolve }) => {
	if (!event.locals.session && event.route.id?.startsWith('/(app)/')) redirect(303, loginUrl(event.url));
	return resolve(event);
};

/** Pages rendered for a signed-in user must never be stored by a browser or proxy cache. */
const noStoreWhenSignedIn: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	if (event.locals.session) response.headers.set('cache-control', 'private, no-store');
	return response;
};

export const handle = sequence(
	securityHeaders,
	databaseFaults,
	clientAddress,
	authEndpoints,
	sessionLocals,
	networkWatch,
	signInRequired,
	noStoreWhenSignedIn
);

const RETRY_AFTER_SECONDS = '30';
const UNAVAILABLE_MESSAGE = 'Latchkey is briefly unavailable. Please try again in a minute.';

function serviceUnavailable(): Response {
	const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latchkey is unavailable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>Latchkey is briefly unavailable</h1><p>We cannot reach our database right now. Please try again in a minute.</p></body></html>`;
	return new Response(page, {
		status: 503,
		headers: {
			'content-type': 'text/html; charset=utf-8',
			'retry-after': RETRY_AFTER_SECONDS,
			'cache-control': 'no-store'
		}
	});
}

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const fault = databaseFault(error);
	if (fault) {
		console.error(`latchkey: database unavailable: ${fault}`);
		event.locals.databaseUnavailable = true;
		return { message: UNAVAILABLE_MESSAGE };
	}
	// The message only: a stack or a query error's parameters could carry a session token.
	if (status >= 500) {
		console.error(`latchkey: unexpected error: ${safeErrorMessage(error)}`);
		return { message: 'Something went wrong on our side. Please try again.' };
	}
	// SvelteKit refuses a form action posted as JSON (or any non-form type) before the action runs.
	return { message: status === 415 ? UNREADABLE_FORM_MESSAGE : message };
};
