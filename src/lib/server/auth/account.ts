import { getRequestEvent } from '$app/server';
import { requestActor, type SignedIn } from './guards';
import { getSessionServices } from './server';
import * as sessions from './sessions';
import type { Device } from './sessions';

/**
 * sessions.ts for the visitor of the current request, from a page's load or action:
 * `listSessions(requireAuth())`. Each takes the SignedIn that requireAuth or requireFreshAuth
 * returned, so an action cannot skip its own session check, and fills in this process's
 * services (getSessionServices) and the actor from the request (address and user agent). These
 * live apart from sessions.ts because this process's Better Auth instance, which the services
 * hold, ends the session a sign-in replaces through sessions.ts: one module would be a cycle.
 */
export function listSessions(signedIn: SignedIn): Promise<Device[]> {
	return sessions.listSessions(getSessionServices(), requestActor(signedIn));
}

/** Ends one of the visitor's own sessions; null when there is no such session of theirs. */
export function revokeOwnSession(signedIn: SignedIn, sessionId: string): Promise<Device | null> {
	return sessions.revokeOwnSession(getSessionServices(), requestActor(signedIn), sessionId);
}

/** Signs this browser out: its session ends, and Better Auth's sign-out clears its cookies. */
export function revokeCurrentSession(signedIn: SignedIn): Promise<void> {
	return sessions.revokeCurrentSession(getSessionServices(), requestActor(signedIn), getRequestEvent().request.headers);
}

/** Ends every other session of the visitor; returns how many. */
export function revokeOtherSessions(signedIn: SignedIn): Promise<number> {
	return sessions.revokeOtherSessions(getSessionServices(), requestActor(signedIn));
}

/** Ends every session of the visitor, this one included; returns how many. */
export function revokeAllSessions(signedIn: SignedIn): Promise<number> {
	return sessions.revokeAllSessions(getSessionServices(), requestActor(signedIn));
}

/** Deletes the visitor's account with all its sessions. */
export function deleteAccount(signedIn: SignedIn): Promise<void> {
	return sessions.deleteAccount(getSessionServices(), requestActor(signedIn));
}
