import type { RequestEvent } from '@sveltejs/kit';
import { isAPIError } from 'better-auth/api';
import * as z from 'zod';
import { signInCodeMessage, type Mailer } from '../mail';
import {
	consumeInOrder,
	type RateLimiter,
	type RateLimitRule,
	type RateLimitVerdict,
	type ReauthLimits,
	type SignInLimits,
	type VisitorLimits
} from '../rate-limit';
import { databaseFault, safeErrorMessage } from '../errors';
import { networkOf } from '../ip-network';
import { SESSION_ENDED_AT_ONCE, SIGN_IN_REFUSED, type Auth } from './better-auth';
import {
	CODE_DIGITS,
	CODE_LIFETIME_SECONDS,
	CODE_PATTERN,
	issueCode,
	newPendingKey,
	PENDING_KEY,
	reauthHolder,
	signInHolder,
	tryCode,
	type CodeBook,
	type CodeHolder,
	type CodeVerdict
} from './codes';
import type { CookieSettings } from '../config';
import { cookieName } from './cookies';
import { isKnownDevice, type KnownDevices } from './known-device';

/** Why a sign-in step did not go through, worded for the person at the keyboard. */
export interface SignInRefusal {
	status: 400 | 403 | 404 | 429 | 503;
	message: string;
}

/**
 * Never in an address typed into a form: whitespace, control and invisible formatting
 * characters (bidi overrides among them), and RFC 5322's specials, which include markup's
 * `<` `>` `"`. Refused before either sign-in step, so the code step never shows one back.
 */
const NOT_IN_ADDRESS = String.raw`\s@\p{C}<>()[\]\\,;:"`;
const ADDRESS_PART = `[^${NOT_IN_ADDRESS}]+`;
const EMAIL_PATTERN = new RegExp(`^${ADDRESS_PART}@${ADDRESS_PART}\\.${ADDRESS_PART}$`, 'u');
const MAX_EMAIL_LENGTH = 254;
/** The form Better Auth requires of an address it creates a user for (its own email sign-in's check). */
const MAILABLE = z.email();

const SIGN_IN_UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'Sign-in is briefly unavailable. Please try again in a minute.'
};

/** A code that could not be mailed: sign-in's and the email change's alike. */
export const MAIL_UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'We could not send the code just now. Please try again in a minute.'
};

export const MALFORMED_CODE: SignInRefusal = {
	status: 400,
	message: `Enter the code from the email: ${CODE_DIGITS} digits.`
};

/**
 * Another sign-in of the same account at the same moment ended this one's new session under
 * MAX_SESSIONS_PER_USER; the code is spent, as it would be after signing in.
 */
const ENDED_AT_ONCE: SignInRefusal = {
	status: 403,
	message:
		'Your account signed in on another device at the same moment, and the session limit kept that one. Send a new code to sign in here.'
};

/**
 * SESSION_LIMIT_ACTION=refuse kept this sign-in from a session; the code is spent. The login
 * action sends the browser on to /session-limit, which offers the way out.
 */
export const LIMIT_REFUSED: SignInRefusal = {
	status: 403,
	message: 'This account is signed in on as many devices as it may be at once, so this sign-in was refused.'
};

/**
 * What a try that does not sign in is told. A browser without a code of its own hears what a
 * wrong code hears, so no answer says whether, or when, anyone asked for a code; only the
 * browser that holds a code learns that it expired or was used up.
 */
export const REFUSALS: Record<Exclude<CodeVerdict, 'accepted'>, SignInRefusal> = {
	wrong: {
		status: 400,
		message: 'That code is not valid. Check the newest email from us, or send a new code.'
	},
	expired: {
		status: 400,
		message: `That code has expired. Send a new code and use it within ${CODE_LIFETIME_SECONDS / 60} minutes.`
	},
	'used-up': {
		status: 403,
		message: 'Too many wrong codes: this code no longer works. Send a new code.'
	}
};

/** Lower-cased, trimmed address, or null when it cannot be an email address. */
export function normalizeEmail(raw: string): string | null {
	const email = raw.trim().toLowerCase();
	return email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email) && MAILABLE.safeParse(email).success
		? email
		: null;
}

/** The part of a form action's event the sign-in steps use: its client address, headers and cookies. */
export type SignInRequest = Pick<RequestEvent, 'request' | 'getClientAddress' | 'cookies'>;

/**
 * What the sign-in steps need: Better Auth (which creates the session), the codes and where
 * they are mailed, the limits to hold every step to, and the known-device key.
 */
export interface SignInService {
	auth: Auth;
	codes: CodeBook;
	mailer: Mailer;
	limits: SignInLimits;
	limiter: RateLimiter;
	knownDevices: KnownDevices;
	pendingCookie: PendingSignInCookie;
}

/**
 * The cookie that ties a sign-in code to the browser that asked for it: a random key, HttpOnly,
 * sent only by same-site requests, living as long as the code. `__Host-` whenever cookies are
 * Secure, so no subdomain can set it.
 */
export interface PendingSignInCookie {
	name: string;
	secure: boolean;
}

export function pendingSignInCookie(settings: Pick<CookieSettings, 'prefix' | 'secure'>): PendingSignInCookie {
	return {
		name: cookieName({ prefix: settings.prefix, secure: settings.secure }, 'pending_sign_in'),
		secure: settings.secure
	};
}

function pendingCookieAttributes(cookie: PendingSignInCookie) {
	return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: cookie.secure };
}

/** This browser's pending-sign-in key, when its cookie holds one. */
function pendingKeyOf(service: SignInService, event: SignInRequest): string | null {
	const value = event.cookies.get(service.pendingCookie.name);
	return value && PENDING_KEY.test(value) ? value : null;
}

/** The signed-in user confirming their identity (requireFreshAuth), and the session they do it from. */
export interface ReauthenticatingUser {
	email: string;
	userId: string;
	sessionId: string;
}

/** Sends a sign-in code to `email`, within the visitor's limits. */
export async function sendSignInCode(
	service: SignInService,
	event: SignInRequest,
	email: string
): Promise<SignInRefusal | null> {
	const checks = visitorChecks(service, service.limits.sendCode, event, email);
	const refusal = await withinLimits(service.limiter, 'codes sent', checks);
	if (refusal) return refusal;
	const key = pendingKeyOf(service, event) ?? newPendingKey();
	const sent = await sendCode(service, signInHolder(key), email, 'sign-in');
	if (!sent) {
		const { pendingCookie } = service;
		event.cookies.set(pendingCookie.name, key, {
			...pendingCookieAttributes(pendingCookie),
			maxAge: CODE_LIFETIME_SECONDS
		});
	}
	return sent;
}

/** Sends a re-authentication code, counted against the user's and session's own limits only. */
export async function sendReauthenticationCode(
	service: SignInService,
	event: SignInRequest,
	who: ReauthenticatingUser
): Promise<SignInRefusal | null> {
	const checks = reauthChecks(service.limits.reauthSendCode, who);
	return (
		(await withinLimits(service.limiter, 'codes sent', checks)) ??
		sendCode(service, reauthHolder(who.sessionId), who.email, 'reauth')
	);
}

/** Stores the holder's new code, replacing theirs, and mails it. */
async function sendCode(
	{ codes, mailer }: SignInService,
	holder: CodeHolder,
	email: string,
	purpose: 'sign-in' | 'reauth'
): Promise<SignInRefusal | null> {
	let code: string;
	try {
		code = await issueCode(codes, holder, email);
	} catch (error) {
		console.error(`latchkey: could not store a sign-in code: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
	}
	try {
		await mailer.send(signInCodeMessage(email, code, CODE_LIFETIME_SECONDS / 60, purpose));
		return null;
	} catch (error) {
		console.error(`latchkey: could not mail a sign-in code: ${safeErrorMessage(error)}`);
		return MAIL_UNAVAILABLE;
	}
}

export interface CodeAttempt {
	email: string;
	code: string;
	/** The remember-me checkbox; better-auth.ts turns it into the session's policy. */
	rememberMe: boolean;
}

/** Signs in with the emailed code held by this browser; Better Auth creates the session and sets its cookie. */
export async function verifySignInCode(
	service: SignInService,
	event: SignInRequest,
	attempt: CodeAttempt
): Promise<SignInRefusal | null> {
	if (!CODE_PATTERN.test(attempt.code)) return MALFORMED_CODE;
	const checks = visitorChecks(service, service.limits.verifyCode, event, attempt.email);
	const refusal = await withinLimits(service.limiter, 'attempts', checks);
	if (refusal) return refusal;
	const key = pendingKeyOf(service, event);
	// A browser without a pending sign-in holds no code: its try is refused as a wrong one.
	const holder = signInHolder(key ?? newPendingKey());
	const outcome = await spendAndSignIn(service, event, holder, attempt);
	if (outcome === null)
		event.cookies.delete(service.pendingCookie.name, pendingCookieAttributes(service.pendingCookie));
	return outcome;
}

/** Re-authenticates with the code sent to this session: a new session replaces this one (see reauth's page). */
export async function verifyReauthenticationCode(
	service: SignInService,
	event: SignInRequest,
	attempt: Omit<CodeAttempt, 'email'> & ReauthenticatingUser
): Promise<SignInRefusal | null> {
	if (!CODE_PATTERN.test(attempt.code)) return MALFORMED_CODE;
	const refusal = await withinLimits(
		service.limiter,
		'attempts',
		reauthChecks(service.limits.reauthVerifyCode, attempt)
	);
	if (refusal) return refusal;
	return spendAndSignIn(service, event, reauthHolder(attempt.sessionId), attempt, true);
}

/** Every well-formed try has been counted before it gets here, whatever it comes to. */
async function spendAndSignIn(
	{ auth, codes }: SignInService,
	event: SignInRequest,
	holder: CodeHolder,
	{ email, code, rememberMe }: CodeAttempt,
	reauthenticate = false
): Promise<SignInRefusal | null> {
	try {
		const verdict = await tryCode(codes, holder, email, code);
		if (verdict !== 'accepted') return REFUSALS[verdict];
		await auth.api.signInWithAcceptedCode({
			body: { email, codeAccepted: true, rememberMe, reauthenticate },
			headers: event.request.headers
		});
	} catch (error) {
		if (isAPIError(error) && error.body?.code === 'INVALID_OTP') return REFUSALS.wrong;
		if (isAPIError(error) && error.body?.code === SESSION_ENDED_AT_ONCE) return ENDED_AT_ONCE;
		if (isAPIError(error) && error.body?.code === SIGN_IN_REFUSED) return LIMIT_REFUSED;
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not check a sign-in code: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
	}
	return null;
}

/**
 * A visitor's limits, narrowest first: per (email, client network) — a whole IPv6 /64 counts as
 * one client — then per network, then a per-email ceiling: the strangers' one, or for a browser
 * that has signed in to the address before, the known browsers' own.
 */
function visitorChecks(
	{ knownDevices }: SignInService,
	rules: VisitorLimits,
	event: SignInRequest,
	email: string
): Array<[RateLimitRule, string]> {
	const network = networkOf(event.getClientAddress());
	const emailAtNetwork = `${network} ${email}`;
	const checks: Array<[RateLimitRule, string]> = [
		[rules.perEmailAndNetwork, emailAtNetwork],
		[rules.perEmailAndNetworkDaily, emailAtNetwork],
		[rules.perNetwork, network]
	];
	const known = isKnownDevice(knownDevices, event.request.headers.get('cookie'), email);
	checks.push([known ? rules.perEmailKnownDaily : rules.perEmailDaily, email]);
	return checks;
}

/** Re-authentication counts against the session it comes from only, never against the email. */
function reauthChecks(
	rules: ReauthLimits,
	{ userId, sessionId }: ReauthenticatingUser
): Array<[RateLimitRule, string]> {
	const session = `${userId} ${sessionId}`;
	return [
		[rules.perSession, session],
		[rules.perSessionDaily, session]
	];
}

/** Counters that cannot be reached refuse, rather than let attempts through uncounted. */
export async function withinLimits(
	limiter: RateLimiter,
	what: string,
	checks: Array<[RateLimitRule, string]>,
	unavailable: SignInRefusal = SIGN_IN_UNAVAILABLE
): Promise<SignInRefusal | null> {
	let verdict: RateLimitVerdict;
	try {
		verdict = await consumeInOrder(limiter, checks);
	} catch (error) {
		console.error(`latchkey: rate limit counters unavailable: ${safeErrorMessage(error)}`);
		return unavailable;
	}
	return verdict.allowed ? null : tooManyRequests(verdict, what);
}

function tooManyRequests(verdict: RateLimitVerdict, what: string): SignInRefusal {
	return { status: 429, message: `Too many ${what} for now. Try again in ${waitInWords(verdict.retryAfterSeconds)}.` };
}

/** Minutes up to two hours, hours beyond (a daily limit's wait). */
export function waitInWords(seconds: number): string {
	const minutes = Math.max(1, Math.ceil(seconds / 60));
	if (minutes <= 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
	return `${Math.ceil(minutes / 60)} hours`;
}
