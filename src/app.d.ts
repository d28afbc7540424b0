import type { Session, User } from '#lib/server/auth/better-auth.ts';

declare global {
	namespace App {
		interface Locals {
			/** Set by hooks.server.ts on every request; null when signed out. */
			user: User | null;
			session: Session | null;
			/** Set by handleError when the database could not be used: the answer becomes a 503. */
			databaseUnavailable?: boolean;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
