import type { Session, User } from '$lib/server/auth';

declare global {
	namespace App {
		interface Locals {
			/** Set by hooks.server.ts on every request; null when signed out. */
			user: User | null;
			session: Session | null;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
