import { getRequestEvent } from '$app/server';
import { getConfig } from '../config';
import { getStorage } from '../db';
import { getMailer } from '../mail';
import { databaseRateLimiter, redisRateLimiter, type RateLimiter } from '../rate-limit';
import { getRedis } from '../redis';
import type { SessionLog } from '../session-log';
import { createAuth, type Auth } from './better-auth';
import { createDeviceBinding, type DeviceBinding } from './device-binding';
import type { EmailChangeService } from './email-change';
import { knownDevicesFor } from './known-device';
import { createNetworkWatch, type NetworkWatch } from './network-watch';
import { pendingSignInCookie, type SignInService } from './otp-sign-in';
import { refusedSignInCookie } from './refused-sign-in';
import type { SignOutLinkService } from './sign-out-link';
import { getSessionServices, sessionRevoker } from './sessions';

/**
 * This process's singletons, each built on first use: Better Auth, the network watch, the
 * session log and the sign-in service. The session validator is built once at start-up
 * (startSessionValidation in handles.ts); what listing and ending sessions need is sessions.ts's
 * own (getSessionServices), shared by all of them.
 */

let auth: Auth | undefined;
let networkWatch: NetworkWatch | undefined;
let deviceBinding: DeviceBinding | undefined;

/** Structured session log lines (created, refreshed, revoked, expired) on stdout. */
export function getSessionLog(): SessionLog {
	return getSessionServices().log;
}

/** This process's Better Auth instance, built on first use so `vite build` never opens the database. */
export function getAuth(): Auth {
	return (auth ??= createAuth({
		config: getConfig(),
		database: getStorage(),
		currentRequestEvent: requestEventIfAny,
		log: getSessionLog(),
		redis: getRedis()
	}));
}

/** Reports (or, under high-security, ends) sessions used from a new network: see network-watch.ts. */
export function getNetworkWatch(): NetworkWatch {
	return (networkWatch ??= createNetworkWatch({
		revokeSession: sessionRevoker(getSessionServices()),
		database: getStorage(),
		revokeOnChange: getConfig().ipChangeRevokes
	}));
}

/** Device-bound sessions (DEVICE_BOUND_SESSIONS): the invitation, registration and refresh of device-binding.ts. */
export function getDeviceBinding(): DeviceBinding {
	const { origin, secret, cookies, deviceBound } = getConfig();
	return (deviceBinding ??= createDeviceBinding({
		database: getStorage(),
		origin,
		secret,
		cookies,
		settings: deviceBound,
		limiter: getRateLimiter()
	}));
}

/** What the sign-in and re-authentication steps need. */
export function getSignInService(): SignInService {
	const { signInLimits, cookies, secret } = getConfig();
	return {
		auth: getAuth(),
		codes: { rows: getStorage().codes, secret, now: Date.now },
		mailer: getMailer(),
		limits: signInLimits,
		limiter: getRateLimiter(),
		knownDevices: knownDevicesFor(cookies, secret),
		pendingCookie: pendingSignInCookie(cookies)
	};
}

/** What changing the email address needs: codes, mail and limits as sign-in's, and the sessions to end. */
export function getEmailChangeService(): EmailChangeService {
	const { signInLimits, secret } = getConfig();
	return {
		codes: { rows: getStorage().codes, secret, now: Date.now },
		mailer: getMailer(),
		limiter: getRateLimiter(),
		limits: { send: signInLimits.emailChangeSendCode, verify: signInLimits.emailChangeVerifyCode },
		sessions: getSessionServices()
	};
}

/** What the way out of a sign-in refused by the session limit needs: the link, its mail and limits. */
export function getSignOutLinkService(): SignOutLinkService {
	const { signInLimits, secret, origin, cookies } = getConfig();
	return {
		codes: { rows: getStorage().codes, secret, now: Date.now },
		mailer: getMailer(),
		limiter: getRateLimiter(),
		limits: signInLimits.signOutLink,
		sessions: getSessionServices(),
		origin,
		refusedCookie: refusedSignInCookie(cookies)
	};
}

let rateLimiter: RateLimiter | undefined;

/** Sign-in limits hold across instances: counted in Redis when configured, else in the database. */
function getRateLimiter(): RateLimiter {
	const redis = getRedis();
	return (rateLimiter ??= redis ? redisRateLimiter(redis) : databaseRateLimiter(getStorage()));
}

function requestEventIfAny() {
	try {
		return getRequestEvent();
	} catch {
		return undefined;
	}
}
