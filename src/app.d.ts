import type { Session, User } from '#lib/server/auth/better-auth.ts';

declare global {
	namespace App {
		interface Locals {
			/** Set by hooks.server.ts on every request; null when signed out. */
			user: User | null;
			session: Session | null;
			/**
			 * Why this browser's session ended, when its validly signed cookie names an ended session
			 * with a stored reason (validator.ts); the sign-in page shows it and clears the cookie.
			 */
			endedReason: string | null;
			/**
			 * The session a sign-in created during this request (better-auth.ts): its response
			 * invites the browser to bind it to its device (device-binding.ts).
			 */
			newSessionId?: string;
			/** Set by handleError when the database could not be used: the answer becomes a 503. */
			databaseUnavailable?: boolean;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
