import { redirect, type RequestEvent } from '@sveltejs/kit';
import type { Session, User } from './instance';

export interface SignedIn {
	user: User;
	session: Session;
}

export type MaybeSignedIn = SignedIn | { user: null; session: null };

/** For pages and actions that need a user: the signed-in user, or a 303 to the sign-in page. */
export function requireAuth(event: RequestEvent): SignedIn {
	const { user, session } = event.locals;
	if (!user || !session) redirect(303, loginUrl(event.url));
	return { user, session };
}

/** For pages that render differently for signed-in visitors; never redirects. */
export function withAuth(event: RequestEvent): MaybeSignedIn {
	const { user, session } = event.locals;
	return user && session ? { user, session } : { user: null, session: null };
}

/** `/login?redirectTo=<the page asked for>`, so sign-in brings the visitor back. */
export function loginUrl(from: URL): string {
	const back = from.pathname + from.search;
	return back === '/' ? '/login' : `/login?redirectTo=${encodeURIComponent(back)}`;
}
