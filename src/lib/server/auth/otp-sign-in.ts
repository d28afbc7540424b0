import type { RequestEvent } from '@sveltejs/kit';
import { isAPIError } from 'better-auth/api';
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
import type { Auth } from './better-auth';
import { isKnownDevice, type KnownDevices } from './known-device';

/** Why a sign-in step did not go through, worded for the person at the keyboard. */
export interface SignInRefusal {
	status: 400 | 403 | 404 | 429 | 503;
	message: string;
}

const CODE_PATTERN = /^\d{6}$/;
/**
 * Never in an address typed into a form: whitespace, control and invisible formatting
 * characters (bidi overrides among them), and RFC 5322's specials, which include markup's
 * `<` `>` `"`. Refused before either sign-in step, so the code step never shows one back.
 */
const NOT_IN_ADDRESS = String.raw`\s@\p{C}<>()[\]\\,;:"`;
const ADDRESS_PART = `[^${NOT_IN_ADDRESS}]+`;
const EMAIL_PATTERN = new RegExp(`^${ADDRESS_PART}@${ADDRESS_PART}\\.${ADDRESS_PART}$`, 'u');
const MAX_EMAIL_LENGTH = 254;

const INVALID_EMAIL: SignInRefusal = { status: 400, message: 'Enter a valid email address, like name@example.com.' };
const SIGN_IN_UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'Sign-in is briefly unavailable. Please try again in a minute.'
};
const MAIL_UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'We could not send the code just now. Please try again in a minute.'
};

const NO_CODE_WAITING: SignInRefusal = {
	status: 400,
	message: 'No code is waiting for this address. Send a code first.'
};

const REFUSALS_BY_CODE: Record<string, SignInRefusal> = {
	INVALID_OTP: {
		status: 400,
		message: 'That code is not valid. Check the newest email from us, or send a new code.'
	},
	OTP_EXPIRED: { status: 400, message: 'That code has expired. Send a new code and use it within 5 minutes.' },
	TOO_MANY_ATTEMPTS: {
		status: 403,
		message: 'Too many wrong codes: this code no longer works. Send a new code.'
	}
};

/** Lower-cased, trimmed address, or null when it cannot be an email address. */
export function normalizeEmail(raw: string): string | null {
	const email = raw.trim().toLowerCase();
	return email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email) ? email : null;
}

/** The part of a form action's event the sign-in steps read: its client address and headers. */
export type SignInRequest = Pick<RequestEvent, 'request' | 'getClientAddress'>;

/** What the sign-in steps need: Better Auth, the limits to hold its API calls to, and the known-device key. */
export interface SignInService {
	auth: Auth;
	limits: SignInLimits;
	limiter: RateLimiter;
	knownDevices: KnownDevices;
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
	return (await withinLimits(service.limiter, 'codes sent', checks)) ?? sendCode(service.auth, event, email);
}

/** Sends a re-authentication code, counted against the user's and session's own limits only. */
export async function sendReauthenticationCode(
	service: SignInService,
	event: SignInRequest,
	who: ReauthenticatingUser
): Promise<SignInRefusal | null> {
	const checks = reauthChecks(service.limits.reauthSendCode, who);
	return (await withinLimits(service.limiter, 'codes sent', checks)) ?? sendCode(service.auth, event, who.email);
}

async function sendCode(auth: Auth, event: SignInRequest, email: string): Promise<SignInRefusal | null> {
	try {
		await auth.api.sendVerificationOTP({ body: { email, type: 'sign-in' }, headers: event.request.headers });
		return null;
	} catch (error) {
		if (isAPIError(error) && error.body?.code === 'INVALID_EMAIL') return INVALID_EMAIL;
		console.error(`latchkey: could not send a sign-in code: ${safeErrorMessage(error)}`);
		return databaseFault(error) ? SIGN_IN_UNAVAILABLE : MAIL_UNAVAILABLE;
	}
}

export interface CodeAttempt {
	email: string;
	code: string;
	/** The remember-me checkbox; better-auth.ts turns it into the session's policy. */
	rememberMe: boolean;
}

/** Signs in with the emailed code; Better Auth creates the session and sets its cookie. */
export async function verifySignInCode(
	service: SignInService,
	event: SignInRequest,
	attempt: CodeAttempt
): Promise<SignInRefusal | null> {
	return checkCode(service, event, attempt, visitorChecks(service, service.limits.verifyCode, event, attempt.email));
}

/** Re-authenticates with the emailed code: a new session replaces this one (see reauth's page). */
export async function verifyReauthenticationCode(
	service: SignInService,
	event: SignInRequest,
	attempt: Omit<CodeAttempt, 'email'> & ReauthenticatingUser
): Promise<SignInRefusal | null> {
	return checkCode(service, event, attempt, reauthChecks(service.limits.reauthVerifyCode, attempt), true);
}

/**
 * Nothing is counted for a malformed code, nor when no code is waiting for the address (no
 * guess can succeed then, and counting it would let anyone use up the address's limits).
 */
async function checkCode(
	{ auth, limiter }: SignInService,
	event: SignInRequest,
	{ email, code, rememberMe }: CodeAttempt,
	checks: Array<[RateLimitRule, string]>,
	reauthenticate = false
): Promise<SignInRefusal | null> {
	if (!CODE_PATTERN.test(code)) return { status: 400, message: 'Enter the 6-digit code from the email.' };
	const waiting = await codeWaiting(auth, email);
	if (waiting !== true) return waiting;
	const refusal = await withinLimits(limiter, 'attempts', checks);
	if (refusal) return refusal;
	try {
		await auth.api.signInEmailOTP({
			body: { email, otp: code, rememberMe, reauthenticate },
			headers: event.request.headers
		});
	} catch (error) {
		const refusal = isAPIError(error) ? REFUSALS_BY_CODE[String(error.body?.code)] : undefined;
		if (refusal) return refusal;
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not check a sign-in code: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
	}
	return null;
}

/**
 * Where Better Auth's emailOTP plugin keeps the code sent for a sign-in (its toOTPIdentifier):
 * a verification value in the database, or in Redis when Redis is its secondary storage.
 */
export function signInCodeIdentifier(email: string): string {
	return `sign-in-otp-${email}`;
}

/**
 * True when a code (live, expired or used up by wrong tries) is stored for the address: Better
 * Auth then answers the attempt itself, with the matching sentence.
 */
async function codeWaiting(auth: Auth, email: string): Promise<true | SignInRefusal> {
	try {
		const { internalAdapter } = await auth.$context;
		return (await internalAdapter.findVerificationValue(signInCodeIdentifier(email))) ? true : NO_CODE_WAITING;
	} catch (error) {
		console.error(`latchkey: could not look up a sign-in code: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
	}
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
async function withinLimits(
	limiter: RateLimiter,
	what: string,
	checks: Array<[RateLimitRule, string]>
): Promise<SignInRefusal | null> {
	let verdict: RateLimitVerdict;
	try {
		verdict = await consumeInOrder(limiter, checks);
	} catch (error) {
		console.error(`latchkey: rate limit counters unavailable: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
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
