import { getConfig } from '#lib/server/config.ts';
import { idleTimesFor } from '#lib/idle-warning.ts';
import type { LayoutServerLoad } from './$types';

/** What every page may know about the visitor (the client auth state starts from it). Never the token. */
export const load: LayoutServerLoad = ({ locals: { user, session }, url }) => {
	// Reading the URL makes every navigation run this load again: the request may have slid the
	// session, and the page's idle warning must learn the new end from the server.
	void url.href;
	return {
		user: user ? { id: user.id, email: user.email } : null,
		session: session ? { id: session.id, expiresAt: session.expiresAt, policy: session.policy } : null,
		idle: session ? idleTimesFor(session, getConfig().idleWarningSeconds, Date.now()) : null
	};
};
