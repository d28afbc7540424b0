import type { Auth, SessionData } from './instance';

/**
 * The one place a request's cookie becomes a user and a session (or null).
 * hooks.server.ts calls it once per request; routes read the result from event.locals.
 */
export async function validateRequestSession(auth: Auth, headers: Headers): Promise<SessionData | null> {
	return auth.api.getSession({ headers });
}
