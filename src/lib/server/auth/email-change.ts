import { databaseFault, safeErrorMessage } from '../errors';
import { emailChangeCodeMessage, emailChangedNotice, emailTakenNotice, type Mailer, type MailMessage } from '../mail';
import type { RateLimiter, RateLimitRule } from '../rate-limit';
import type { EmailChangeSendLimits, ReauthLimits } from '../rate-limit-rules';
import { forgetCachedUser } from './cached-copies';
import { CODE_LIFETIME_SECONDS, CODE_PATTERN, emailChangeHolder, issueCode, tryCode, type CodeBook } from './codes';
import {
	MAIL_UNAVAILABLE,
	MALFORMED_CODE,
	normalizeEmail,
	REFUSALS,
	withinLimits,
	type SignInRefusal
} from './otp-sign-in';
import { revokeOtherSessionsFor, type Actor, type SessionServices } from './sessions';

/**
 * Changing the address a user signs in with. A code goes to the new address, held by the session
 * that asked (which has just proved it is the owner: requireFreshAuth) and bound to that address
 * inside its digest, so a code for one address confirms no other and no other session can spend
 * it. The right code moves the account to the address, ends every other session (reason
 * `email-changed`), keeps this one, and tells the old address.
 *
 * Nothing the asker sees says whether the new address already has an account: for a taken
 * address the session's code is replaced as for a free one, but the code is mailed to nobody
 * (the address's owner gets a notice instead), so every try at confirming it is a wrong code;
 * and should the address be taken between the two steps, the right code is answered as a wrong
 * one too.
 */

export interface EmailChangeService {
	codes: CodeBook;
	mailer: Mailer;
	limiter: RateLimiter;
	limits: { send: EmailChangeSendLimits; verify: ReauthLimits };
	sessions: SessionServices;
}

/** The signed-in user asking, as the security log sees them, with the address they have now. */
export interface EmailChanger extends Actor {
	email: string;
}

export const INVALID_ADDRESS: SignInRefusal = {
	status: 400,
	message: 'Enter the new email address in full, like name@example.com.'
};
export const SAME_ADDRESS: SignInRefusal = {
	status: 400,
	message: 'That is already your address. Enter the address you want to change to.'
};
const UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'Your address cannot be changed just now. Please try again in a minute.'
};
export type EmailChangeRequest = { refusal: SignInRefusal; email?: undefined } | { refusal: null; email: string };

/** Sends a code to the new address (or, when it is taken, a notice to its owner): the same answer either way. */
export async function requestEmailChange(
	service: EmailChangeService,
	who: EmailChanger,
	typed: string
): Promise<EmailChangeRequest> {
	const email = normalizeEmail(typed);
	if (!email) return { refusal: INVALID_ADDRESS };
	if (email === who.email) return { refusal: SAME_ADDRESS };
	const { send } = service.limits;
	const session = `${who.userId} ${who.sessionId}`;
	const checks: Array<[RateLimitRule, string]> = [
		[send.perSession, session],
		[send.perSessionDaily, session],
		[send.perAddressDaily, email]
	];
	const refusal = await withinLimits(service.limiter, 'codes sent', checks, UNAVAILABLE);
	if (refusal) return { refusal };
	let message: MailMessage;
	try {
		const owner = await service.sessions.database.users.findByEmail(email);
		// A taken address still replaces this session's code, so an earlier code stops working as it would.
		const code = await issueCode(service.codes, emailChangeHolder(who.sessionId), email);
		message = owner ? emailTakenNotice(email) : emailChangeCodeMessage(email, code, CODE_LIFETIME_SECONDS / 60);
	} catch (error) {
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not store an email-change code: ${safeErrorMessage(error)}`);
		return { refusal: UNAVAILABLE };
	}
	try {
		await service.mailer.send(message);
	} catch (error) {
		console.error(`latchkey: could not mail an email-change code: ${safeErrorMessage(error)}`);
		return { refusal: MAIL_UNAVAILABLE };
	}
	return { refusal: null, email };
}

export interface EmailChangeAttempt {
	/** The new address as the form carries it from the first step. */
	email: string;
	code: string;
	/** This session's token, to drop Better Auth's cached copy of its user (never logged or stored). */
	sessionToken: string;
}

/**
 * Confirms the change with the code mailed to the new address. Returns null once the address
 * is changed and the other sessions are ended; a refusal otherwise, with nothing changed.
 */
export async function confirmEmailChange(
	service: EmailChangeService,
	who: EmailChanger,
	attempt: EmailChangeAttempt,
	now: () => number = service.codes.now
): Promise<SignInRefusal | null> {
	const email = normalizeEmail(attempt.email);
	if (!email) return INVALID_ADDRESS;
	if (!CODE_PATTERN.test(attempt.code)) return MALFORMED_CODE;
	const { verify } = service.limits;
	const session = `${who.userId} ${who.sessionId}`;
	const checks: Array<[RateLimitRule, string]> = [
		[verify.perSession, session],
		[verify.perSessionDaily, session]
	];
	const refusal = await withinLimits(service.limiter, 'attempts', checks, UNAVAILABLE);
	if (refusal) return refusal;
	const { database } = service.sessions;
	try {
		const verdict = await tryCode(service.codes, emailChangeHolder(who.sessionId), email, attempt.code);
		if (verdict !== 'accepted') return REFUSALS[verdict];
		// Taken since the code was sent, or the account gone: answered as a wrong code, nothing written.
		if ((await database.users.changeEmail(who.userId, email, new Date(now()))) !== 'changed') return REFUSALS.wrong;
	} catch (error) {
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not change an email address: ${safeErrorMessage(error)}`);
		return UNAVAILABLE;
	}
	const from = maskEmail(who.email);
	const to = maskEmail(email);
	await revokeOtherSessionsFor(
		who,
		{
			reason: 'email-changed',
			securityEvent: (sessions) => ({
				userId: who.userId,
				sessionId: who.sessionId,
				ipAddress: who.ipAddress,
				userAgent: who.userAgent,
				type: 'EMAIL_CHANGED',
				detail: { from, to, sessions }
			})
		},
		service.sessions
	);
	await forgetCachedUser(service.sessions.cache, attempt.sessionToken);
	try {
		await service.mailer.send(emailChangedNotice(who.email, to));
	} catch (error) {
		// The change stands: the security log has it, and the new address is the one that signs in.
		console.error(`latchkey: could not mail the notice of an email change: ${safeErrorMessage(error)}`);
	}
	return null;
}

/**
 * An address with all but the first character of its local part hidden (`n***@example.com`):
 * enough for its owner to recognise, not enough to hand a stranger the address.
 */
export function maskEmail(email: string): string {
	const at = email.lastIndexOf('@');
	if (at < 1) return '***';
	return `${email[0]}***${email.slice(at)}`;
}
