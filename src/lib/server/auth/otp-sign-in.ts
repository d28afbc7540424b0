import type { RequestEvent } from '@sveltejs/kit';
import { isAPIError } from 'better-auth/api';
import {
	consumeAll,
	type RateLimiter,
	type RateLimitRule,
	type RateLimitVerdict,
	type SignInLimits
} from '../rate-limit';
import { databaseFault, safeErrorMessage } from '../errors';
import { networkOf } from '../ip-network';
import type { Auth } from './instance';

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

/** What the sign-in steps need: Better Auth, and the limits to hold its API calls to. */
export interface SignInService {
	auth: Auth;
	limits: SignInLimits;
	limiter: RateLimiter;
}

export async function sendSignInCode(
	{ auth, limits, limiter }: SignInService,
	event: SignInRequest,
	email: string
): Promise<SignInRefusal | null> {
	const refusal = await withinLimits(limiter, 'codes sent', [
		[limits.sendCodePerEmail, email],
		[limits.sendCodePerAddress, networkOf(event.getClientAddress())]
	]);
	if (refusal) return refusal;
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
	/** The remember-me checkbox; instance.ts turns it into the session's policy. */
	rememberMe: boolean;
	/** Confirming the signed-in user's identity (requireFreshAuth) rather than signing in. */
	reauthenticate?: boolean;
}

/** Signs in with the emailed code; Better Auth creates the session and sets its cookie. */
export async function verifySignInCode(
	{ auth, limits, limiter }: SignInService,
	event: SignInRequest,
	{ email, code, rememberMe, reauthenticate = false }: CodeAttempt
): Promise<SignInRefusal | null> {
	const refusal = await withinLimits(limiter, 'attempts', [
		[limits.verifyCodePerEmail, email],
		[limits.verifyCodePerAddress, networkOf(event.getClientAddress())]
	]);
	if (refusal) return refusal;
	if (!CODE_PATTERN.test(code)) return { status: 400, message: 'Enter the 6-digit code from the email.' };
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
 * Counts the attempt against every limit (per email, per client network: a whole IPv6 /64
 * counts as one client). Counters that cannot be reached refuse, rather than let attempts
 * through uncounted.
 */
async function withinLimits(
	limiter: RateLimiter,
	what: string,
	checks: Array<[RateLimitRule, string]>
): Promise<SignInRefusal | null> {
	let verdict: RateLimitVerdict;
	try {
		verdict = await consumeAll(limiter, checks);
	} catch (error) {
		console.error(`latchkey: rate limit counters unavailable: ${safeErrorMessage(error)}`);
		return SIGN_IN_UNAVAILABLE;
	}
	return verdict.allowed ? null : tooManyRequests(verdict, what);
}

function tooManyRequests(verdict: RateLimitVerdict, what: string): SignInRefusal {
	const minutes = Math.max(1, Math.ceil(verdict.retryAfterSeconds / 60));
	return {
		status: 429,
		message: `Too many ${what} for now. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
	};
}
