import { building } from '$app/environment';
import { redirect, type Handle, type HandleServerError, type ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { svelteKitHandler } from 'better-auth/svelte-kit';
import { getAuth, getNetworkWatch, getSessionValidator } from '$lib/server/auth';
import { stampClientAddress } from '$lib/server/auth/client-address';
import { applyCookieAction } from '$lib/server/auth/session-cookie';
import { getConfig } from '$lib/server/config';
import { prepareServer } from '$lib/server/startup';

export const init: ServerInit = prepareServer;

const clientAddress: Handle = ({ event, resolve }) => {
	stampClientAddress(event);
	return resolve(event);
};

/** Better Auth's own endpoints under /api/auth. */
const authEndpoints: Handle = ({ event, resolve }) => svelteKitHandler({ event, resolve, auth: getAuth(), building });

/** Where every request's session is validated (and slid forward when due): see auth/session.ts. */
const sessionLocals: Handle = async ({ event, resolve }) => {
	const { user, session, cookie } = await getSessionValidator().check(event.request.headers.get('cookie'));
	event.locals.user = user;
	event.locals.session = session;
	applyCookieAction(event.cookies, getConfig().cookies, cookie);
	return resolve(event);
};

/** A session used from a new network is reported once; under IP_CHANGE_REVOKES it ends here. */
const networkWatch: Handle = async ({ event, resolve }) => {
	const { session } = event.locals;
	if (!session) return resolve(event);
	const verdict = await getNetworkWatch()(session, event.getClientAddress(), event.request.headers.get('user-agent'));
	if (verdict !== 'revoked') return resolve(event);
	event.locals.user = null;
	event.locals.session = null;
	applyCookieAction(event.cookies, getConfig().cookies, { kind: 'clear' });
	if (event.request.method !== 'GET') return resolve(event);
	redirect(303, `/login?ended=network&redirectTo=${encodeURIComponent(event.url.pathname + event.url.search)}`);
};

/** Pages rendered for a signed-in user must never be stored by a browser or proxy cache. */
const noStoreWhenSignedIn: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	if (event.locals.session) response.headers.set('cache-control', 'private, no-store');
	return response;
};

export const handle = sequence(clientAddress, authEndpoints, sessionLocals, networkWatch, noStoreWhenSignedIn);

export const handleError: HandleServerError = ({ error, status, message }) => {
	if (status >= 500) console.error('latchkey: unexpected error', error);
	return { message: status >= 500 ? 'Something went wrong on our side. Please try again.' : message };
};
