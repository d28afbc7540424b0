import { dev } from '$app/env';
import { sequence, type HandleServerError, type ServerInit } from '@sveltejs/kit/hooks';
import {
	authEndpoints,
	deviceRegistration,
	networkWatch,
	noStoreWhenSignedIn,
	sessionLocals,
	signInRequired,
	startSessionValidation
} from '#lib/server/auth/handles.ts';
import { safeErrorMessage } from '#lib/server/errors.ts';
import { UNREADABLE_FORM_MESSAGE } from '#lib/server/forms.ts';
import { clientAddress } from '#lib/server/http/client-address.ts';
import { respondAtEndOfTurn } from '#lib/server/http/end-of-turn.ts';
import { securityHeaders } from '#lib/server/http/security-headers.ts';
import { databaseError, databaseFaults } from '#lib/server/http/unavailable.ts';
import { prepareServer } from '#lib/server/startup.ts';

/**
 * Before the first request: the build, never an environment variable, says whether this is the
 * development server; then the session validator every request uses is built, once.
 */
export const init: ServerInit = async () => {
	await prepareServer(dev);
	startSessionValidation();
};

/**
 * Every request, in this order (docs/ARCHITECTURE.md draws it):
 * - securityHeaders: nosniff, referrer policy, frame denial, HSTS over https;
 * - databaseFaults: a database that cannot be used answers 503, in the shape the request expects;
 * - clientAddress: the address SvelteKit resolved, stamped for Better Auth (400 when missing);
 * - deviceRegistration: a response that signed someone in invites the browser to bind the
 *   session to its device (DEVICE_BOUND_SESSIONS);
 * - authEndpoints: under /api/auth, only the configured providers' OAuth callbacks are served;
 * - respondAtEndOfTurn: the requests read in one event-loop turn go on together at its end, so
 *   their responses are written in one burst (request scheduling; removing this line switches
 *   it off);
 * - sessionLocals: the session cookie becomes locals.user and locals.session (or null);
 * - networkWatch: a session used from a new network is reported, or ended;
 * - signInRequired: pages under (app) send signed-out visitors to sign-in;
 * - noStoreWhenSignedIn: signed-in pages are never cached.
 */
export const handle = sequence(
	securityHeaders,
	databaseFaults,
	clientAddress,
	deviceRegistration,
	authEndpoints,
	respondAtEndOfTurn,
	sessionLocals,
	networkWatch,
	signInRequired,
	noStoreWhenSignedIn
);

/**
 * SvelteKit 3 passes every error here, the ones thrown with error() too (kind 'app'): those keep
 * the status and message they were thrown with, as before. What is returned replaces only the
 * properties it names.
 */
export const handleError: HandleServerError = (caught) => {
	if (caught.kind === 'app') return;
	const { error, event } = caught;
	const unavailable = databaseError(error, event);
	if (unavailable) return unavailable;
	const status = caught.kind === 'unknown' ? 500 : caught.error.status;
	// The message only: a stack or a query error's parameters could carry a session token.
	if (status >= 500) {
		console.error(`latchkey: unexpected error: ${safeErrorMessage(error)}`);
		return { message: 'Something went wrong on our side. Please try again.' };
	}
	// SvelteKit refuses a form action posted as JSON (or any non-form type) before the action runs.
	if (status === 415) return { message: UNREADABLE_FORM_MESSAGE };
};
