import type { Session, User } from '$lib/server/auth';

declare global {
	namespace App {
		interface Locals {
			/** Set by hooks.server.ts on every request; null when signed out. */
			user: User | null;
			session: Session | null;
			/** Set by handleError when the request lost the database: its 500 becomes the friendly 503. */
			databaseUnavailable?: boolean;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
