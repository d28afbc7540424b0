import { getRequestEvent } from '$app/server';
import { getConfig } from '../config';
import { getDatabase } from '../db';
import { getMailer } from '../mail';
import { createAuth, type Auth } from './instance';

export type { Auth, Session, SessionData, User } from './instance';

let current: Auth | undefined;

/** This process's Better Auth instance, built on first use so `vite build` never opens the database. */
export function getAuth(): Auth {
	return (current ??= createAuth({
		config: getConfig(),
		database: getDatabase(),
		mailer: getMailer(),
		currentRequestEvent: requestEventIfAny
	}));
}

function requestEventIfAny() {
	try {
		return getRequestEvent();
	} catch {
		return undefined;
	}
}
