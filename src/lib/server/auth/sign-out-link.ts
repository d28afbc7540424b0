import { randomBytes, randomUUID } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import { databaseFault, safeErrorMessage } from '../errors';
import { signOutLinkMessage, type Mailer } from '../mail';
import type { RateLimiter, RateLimitRule } from '../rate-limit';
import type { SignOutLinkLimits } from '../rate-limit-rules';
import { recordSecurityEvent } from '../security-log';
import type { CodeBook } from './codes';
import { maskEmail } from './email-change';
import { withinLimits, type SignInRefusal } from './otp-sign-in';
import { networkOf } from '../ip-network';
import { refusedUser, sameDigest, sign, type RefusedSignInCookie } from './refused-sign-in';
import { revokeUserSessions, type SessionServices } from './sessions';

/**
 * The way out of a sign-in refused by the session limit (MAX_SESSIONS_PER_USER with
 * SESSION_LIMIT_ACTION=refuse). The refused browser has just proved who it is (a code or a
 * provider) but holds no session: it carries a signed cookie naming the user instead, and with
 * it may ask for a link mailed to the user's address. Opened in any browser, the link asks for
 * confirmation and then signs out every device of that user (reason `everywhere`), so that the
 * user can sign in again.
 *
 * A link is single use and short-lived. The storage holds no link, only an HMAC of the user and
 * the link's random token under the app secret, in the codes table, one per user: asking again
 * replaces it. The user is part of the digest, so a link never signs out another user.
 */

export const LINK_LIFETIME_SECONDS = 15 * 60;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Better Auth's ids: letters and digits; bounded so a hostile query string is refused unread. */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const STORED = /^(\d+)\.([A-Za-z0-9_-]{43})$/;

export interface SignOutLinkService {
	codes: CodeBook;
	mailer: Mailer;
	limiter: RateLimiter;
	limits: SignOutLinkLimits;
	sessions: SessionServices;
	/** ORIGIN: the link's scheme, host and port. */
	origin: string;
	refusedCookie: RefusedSignInCookie;
}

/** The link as its query string carries it: the user it signs out, and its secret part. */
export interface SignOutLink {
	user: string;
	token: string;
}

const UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'The link cannot be sent just now. Please try again in a minute.'
};
const MAIL_UNAVAILABLE: SignInRefusal = {
	status: 503,
	message: 'We could not send the email just now. Please try again in a minute.'
};
const NOT_REFUSED: SignInRefusal = {
	status: 403,
	message: 'This browser has no refused sign-in to act on any more. Sign in again to ask for a link.'
};
const LINK_UNUSABLE: SignInRefusal = {
	status: 400,
	message: 'This link is not valid: it has been used, replaced by a newer one, or mistyped. Ask for a new one.'
};
const LINK_EXPIRED: SignInRefusal = {
	status: 400,
	message: `This link has expired: links work for ${LINK_LIFETIME_SECONDS / 60} minutes. Ask for a new one.`
};
const CANNOT_SIGN_OUT: SignInRefusal = {
	status: 503,
	message: 'Your devices could not be signed out just now. Please try again in a minute: the link still works.'
};

/** The browser asking, as the security log and the limits see it. */
export interface LinkRequester {
	ipAddress: string | null;
	userAgent: string | null;
}

export type LinkRequest = { refusal: SignInRefusal; sentTo?: undefined } | { refusal: null; sentTo: string };

/**
 * Mails a new link (replacing the user's last) to the address the refused user has now; answers
 * with that address masked. Counted per user and per network before anything is stored or sent.
 */
export async function sendSignOutLink(
	service: SignOutLinkService,
	cookies: Pick<Cookies, 'get'>,
	who: LinkRequester
): Promise<LinkRequest> {
	const now = service.codes.now();
	const userId = refusedUser(cookies, service.refusedCookie, service.codes.secret, now);
	if (!userId) return { refusal: NOT_REFUSED };
	const { send } = service.limits;
	const checks: Array<[RateLimitRule, string]> = [
		[send.perUser, userId],
		[send.perUserDaily, userId],
		[send.perNetwork, networkOf(who.ipAddress ?? 'unknown')]
	];
	const refusal = await withinLimits(service.limiter, 'links sent', checks, UNAVAILABLE);
	if (refusal) return { refusal };
	let email: string;
	let url: string;
	try {
		const user = await service.sessions.database.users.findById(userId);
		if (!user) return { refusal: NOT_REFUSED };
		email = user.email;
		url = await issueLink(service, userId, now);
	} catch (error) {
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not store a sign-out link: ${safeErrorMessage(error)}`);
		return { refusal: UNAVAILABLE };
	}
	try {
		await service.mailer.send(signOutLinkMessage(email, url, LINK_LIFETIME_SECONDS / 60));
	} catch (error) {
		console.error(`latchkey: could not mail a sign-out link: ${safeErrorMessage(error)}`);
		return { refusal: MAIL_UNAVAILABLE };
	}
	// Recorded once the mail is out, so the log never claims a link that did not leave; the link
	// stands even when the record cannot be written.
	try {
		await recordSecurityEvent(service.sessions.database, {
			userId,
			ipAddress: who.ipAddress,
			userAgent: who.userAgent,
			type: 'SIGN_OUT_LINK_SENT',
			detail: {}
		});
	} catch (error) {
		console.error(`latchkey: could not record a sent sign-out link: ${safeErrorMessage(error)}`);
	}
	return { refusal: null, sentTo: maskEmail(email) };
}

function holderOf(userId: string): string {
	return `latchkey-sign-out-link:${userId}`;
}

async function issueLink(service: SignOutLinkService, userId: string, now: number): Promise<string> {
	const token = randomBytes(32).toString('base64url');
	const expiresAt = now + LINK_LIFETIME_SECONDS * 1000;
	const value = `${expiresAt}.${sign(service.codes.secret, 'sign-out link', userId, token)}`;
	await service.codes.rows.replace(
		{ id: randomUUID(), holder: holderOf(userId), value, expiresAt: new Date(expiresAt) },
		new Date(now)
	);
	const query = new URLSearchParams({ user: userId, token });
	return `${service.origin}/sign-out-everywhere?${query}`;
}

/** The link from a query string or a form, when it has the shape of one. */
export function signOutLinkFrom(field: (name: string) => string | null): SignOutLink | null {
	const user = field('user') ?? '';
	const token = field('token') ?? '';
	return USER_ID.test(user) && TOKEN.test(token) ? { user, token } : null;
}

type Stored = { verdict: 'valid'; id: string; value: string; expiresAt: Date } | { verdict: 'unusable' | 'expired' };

async function lookUp(service: SignOutLinkService, link: SignOutLink): Promise<Stored> {
	const stored = await service.codes.rows.find(holderOf(link.user));
	const match = stored && STORED.exec(stored.value);
	if (!stored || !match) return { verdict: 'unusable' };
	const [, expiresAt, digest] = match as unknown as [string, string, string];
	if (!sameDigest(digest, sign(service.codes.secret, 'sign-out link', link.user, link.token)))
		return { verdict: 'unusable' };
	if (Number(expiresAt) <= service.codes.now()) return { verdict: 'expired' };
	return { verdict: 'valid', id: stored.id, value: stored.value, expiresAt: new Date(Number(expiresAt)) };
}

/**
 * Whether the link would work now, for the page that asks to confirm: a refusal, or null. Spends
 * nothing, so a mail scanner that opens the link changes nothing.
 */
export async function checkSignOutLink(service: SignOutLinkService, link: SignOutLink | null) {
	if (!link) return LINK_UNUSABLE;
	try {
		const { verdict } = await lookUp(service, link);
		return verdict === 'valid' ? null : verdict === 'expired' ? LINK_EXPIRED : LINK_UNUSABLE;
	} catch (error) {
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not check a sign-out link: ${safeErrorMessage(error)}`);
		return CANNOT_SIGN_OUT;
	}
}

export type LinkUse = { refusal: SignInRefusal; sessions?: undefined } | { refusal: null; sessions: number };

/**
 * Spends the link (exactly one request can) and signs out every device of its user, this
 * browser's own session too when it is theirs; the security log records SIGNED_OUT_EVERYWHERE
 * by the emailed link. A link that is unusable, expired or already spent changes nothing.
 */
export async function useSignOutLink(
	service: SignOutLinkService,
	link: SignOutLink | null,
	who: LinkRequester
): Promise<LinkUse> {
	if (!link) return { refusal: LINK_UNUSABLE };
	const checks: Array<[RateLimitRule, string]> = [
		[service.limits.use.perNetwork, networkOf(who.ipAddress ?? 'unknown')]
	];
	const refusal = await withinLimits(service.limiter, 'attempts', checks, CANNOT_SIGN_OUT);
	if (refusal) return { refusal };
	let spent: { value: string; expiresAt: Date };
	try {
		const stored = await lookUp(service, link);
		if (stored.verdict === 'expired') return { refusal: LINK_EXPIRED };
		if (stored.verdict !== 'valid' || !(await service.codes.rows.spend(stored.id, stored.value)))
			return { refusal: LINK_UNUSABLE };
		spent = { value: stored.value, expiresAt: stored.expiresAt };
	} catch (error) {
		if (!databaseFault(error)) throw error;
		console.error(`latchkey: could not spend a sign-out link: ${safeErrorMessage(error)}`);
		return { refusal: CANNOT_SIGN_OUT };
	}
	try {
		const sessions = await revokeUserSessions(
			service.sessions,
			link.user,
			{
				reason: 'everywhere',
				securityEvent: (count) => ({
					userId: link.user,
					ipAddress: who.ipAddress,
					userAgent: who.userAgent,
					type: 'SIGNED_OUT_EVERYWHERE',
					detail: { sessions: count, via: 'emailed-link' }
				})
			},
			service.codes.now()
		);
		return { refusal: null, sessions };
	} catch (error) {
		// Whatever stopped it, the link goes back: spent without effect, it would leave the user locked out.
		console.error(`latchkey: could not sign out every device by a link: ${safeErrorMessage(error)}`);
		await restoreLink(service, link.user, spent);
		return { refusal: CANNOT_SIGN_OUT };
	}
}

/** Puts a spent link back when its devices could not be signed out, so the same link can try again. */
async function restoreLink(
	service: SignOutLinkService,
	userId: string,
	spent: { value: string; expiresAt: Date }
): Promise<void> {
	try {
		await service.codes.rows.replace(
			{ id: randomUUID(), holder: holderOf(userId), ...spent },
			new Date(service.codes.now())
		);
	} catch (error) {
		console.error(`latchkey: could not restore a sign-out link: ${safeErrorMessage(error)}`);
	}
}
