import { getRequestEvent } from '$app/server';
import { redirect, type RequestEvent } from '@sveltejs/kit';
import { getConfig } from '../config';
import type { Session, User } from './better-auth';
import type { Actor } from './sessions';

export interface SignedIn {
	user: User;
	session: Session;
}

export type MaybeSignedIn = SignedIn | { user: null; session: null };

/**
 * For pages and actions that need a user: the signed-in user, or a 303 to the sign-in page.
 * Reads the current request (getRequestEvent), so a load or action calls `requireAuth()`.
 */
export function requireAuth(event: RequestEvent = getRequestEvent()): SignedIn {
	const { user, session } = event.locals;
	if (!user || !session) redirect(303, loginUrl(event.url));
	return { user, session };
}

/**
 * For sensitive actions (sudo mode): the signed-in user, if they signed in within the re-auth
 * window; otherwise a 303 to the re-authentication step, which comes back to this page. A
 * re-authentication creates a new session, so its createdAt is the last authentication.
 */
export function requireFreshAuth(
	event: RequestEvent = getRequestEvent(),
	windowSeconds = getConfig().reauthWindowSeconds,
	now = Date.now()
): SignedIn {
	const signedIn = requireAuth(event);
	if (now - signedIn.session.createdAt.getTime() > windowSeconds * 1000) redirect(303, reauthUrl(event.url));
	return signedIn;
}

/** The signed-in user as the security log sees them: who, which session, from where. */
export function requestActor({ user, session }: SignedIn, event: RequestEvent = getRequestEvent()): Actor {
	return {
		userId: user.id,
		sessionId: session.id,
		ipAddress: event.getClientAddress(),
		userAgent: event.request.headers.get('user-agent')
	};
}

/** For pages that render differently for signed-in visitors: the user or nulls; never redirects. */
export function optionalAuth(event: RequestEvent = getRequestEvent()): MaybeSignedIn {
	const { user, session } = event.locals;
	return user && session ? { user, session } : { user: null, session: null };
}

/** `/login?redirectTo=<the page asked for>`, so sign-in brings the visitor back. */
export function loginUrl(from: URL): string {
	return withRedirectTo('/login', from);
}

export function reauthUrl(from: URL): string {
	return withRedirectTo('/reauth', from);
}

function withRedirectTo(path: string, from: URL): string {
	// A form action's URL (`?/delete`) is not a page to come back to; its page is.
	const search = from.search.startsWith('?/') ? '' : from.search;
	const back = from.pathname + search;
	return back === '/' ? path : `${path}?redirectTo=${encodeURIComponent(back)}`;
}
