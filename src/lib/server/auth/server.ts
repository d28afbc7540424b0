import { getRequestEvent } from '$app/server';
import { getConfig } from '../config';
import { getDatabase } from '../db';
import { getMailer } from '../mail';
import { databaseRateLimiter, redisRateLimiter, type RateLimiter } from '../rate-limit';
import { getRedis } from '../redis';
import { createSessionLog, type SessionLog } from '../session-log';
import { createAuth, type Auth } from './better-auth';
import { knownDevicesFor } from './known-device';
import { createNetworkWatch, type NetworkWatch } from './network-watch';
import { pendingSignInCookie, type SignInService } from './otp-sign-in';
import { sessionRevoker, type SessionServices } from './sessions';

/**
 * This process's singletons, each built on first use: Better Auth, the network watch, the
 * session log, the sign-in service and what listing and ending sessions need. The session
 * validator is built once at start-up (startSessionValidation in handles.ts).
 */

let auth: Auth | undefined;
let networkWatch: NetworkWatch | undefined;
let sessionLog: SessionLog | undefined;

/** Structured session log lines (created, refreshed, revoked, expired) on stdout. */
export function getSessionLog(): SessionLog {
	return (sessionLog ??= createSessionLog(getConfig().secret));
}

/** This process's Better Auth instance, built on first use so `vite build` never opens the database. */
export function getAuth(): Auth {
	return (auth ??= createAuth({
		config: getConfig(),
		database: getDatabase(),
		currentRequestEvent: requestEventIfAny,
		log: getSessionLog(),
		redis: getRedis()
	}));
}

/** Reports (or, under high-security, ends) sessions used from a new network: see network-watch.ts. */
export function getNetworkWatch(): NetworkWatch {
	return (networkWatch ??= createNetworkWatch({
		revokeSession: sessionRevoker(getSessionServices()),
		database: getDatabase(),
		revokeOnChange: getConfig().ipChangeRevokes
	}));
}

/** What the sign-in and re-authentication steps need. */
export function getSignInService(): SignInService {
	const { signInLimits, cookies, secret } = getConfig();
	return {
		auth: getAuth(),
		codes: { rows: getDatabase().codes, secret, now: Date.now },
		mailer: getMailer(),
		limits: signInLimits,
		limiter: getRateLimiter(),
		knownDevices: knownDevicesFor(cookies, secret),
		pendingCookie: pendingSignInCookie(cookies)
	};
}

let rateLimiter: RateLimiter | undefined;

/** Sign-in limits hold across instances: counted in Redis when configured, else in the database. */
function getRateLimiter(): RateLimiter {
	const redis = getRedis();
	return (rateLimiter ??= redis ? redisRateLimiter(redis) : databaseRateLimiter(getDatabase()));
}

/** What listing and ending sessions need (sessions.ts): Better Auth, the database, the session log. */
export function getSessionServices(): SessionServices {
	return { auth: getAuth(), database: getDatabase(), log: getSessionLog() };
}

function requestEventIfAny() {
	try {
		return getRequestEvent();
	} catch {
		return undefined;
	}
}
