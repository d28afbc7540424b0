import { getRequestEvent } from '$app/server';
import { getConfig } from '../config';
import { getDatabase } from '../db';
import { getMailer } from '../mail';
import { createAuth, type Auth } from './instance';
import { createSessionValidator, type SessionValidator } from './session';
import { createSessionStore } from './session-store';

export type { Auth, Session, SessionData, User } from './instance';

let auth: Auth | undefined;
let validator: SessionValidator | undefined;

/** This process's Better Auth instance, built on first use so `vite build` never opens the database. */
export function getAuth(): Auth {
	return (auth ??= createAuth({
		config: getConfig(),
		database: getDatabase(),
		mailer: getMailer(),
		currentRequestEvent: requestEventIfAny
	}));
}

/** This process's session validator (see session.ts), reading the database Better Auth writes. */
export function getSessionValidator(): SessionValidator {
	const { secret, cookies } = getConfig();
	return (validator ??= createSessionValidator({ store: createSessionStore(getDatabase()), secret, cookies }));
}

function requestEventIfAny() {
	try {
		return getRequestEvent();
	} catch {
		return undefined;
	}
}
