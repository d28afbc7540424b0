import type { CookieSettings } from '../config';
import { hasCookie, sessionCookieName, signSessionToken, verifiedSessionToken } from './cookies';
import type { SessionLog } from '../session-log';
import type { SessionRows, StoredSession } from '../db/port';
import type { RevokeSession } from './sessions';
import type { SessionEndings } from './session-endings';

/** What the response must do with the session cookie; null for nothing. */
export type CookieAction = { kind: 'reissue'; value: string; maxAge: number | undefined } | { kind: 'clear' } | null;

/**
 * A request's user and session (or null for both), and what to do with its session cookie. A
 * signed-out request whose validly signed cookie belongs to a session that ended for a known
 * reason carries that reason, and its cookie is kept: the sign-in page reads the reason and
 * clears the cookie (docs/decisions/0018-why-a-session-ended.md).
 */
export type SessionValidationResult =
	| (StoredSession & { cookie: CookieAction; endedReason?: undefined })
	| { session: null; user: null; cookie: CookieAction; endedReason: string | null };

export interface SessionValidatorOptions {
	/**
	 * The session rows the validator reads and refreshes (the storage port's): a lookup by token
	 * per request and one guarded UPDATE per refresh. Ending a session is sessions.ts's job.
	 */
	store: Pick<SessionRows, 'findByToken' | 'extend'>;
	/** Ends a session with its log line and its reason (sessions.ts). */
	revokeSession: RevokeSession;
	/** Why sessions ended (session-endings.ts): the idle end records its reason, a missing session is looked up. */
	endings: Pick<SessionEndings, 'record' | 'find'>;
	log: SessionLog;
	secret: string;
	cookies: CookieSettings;
	/**
	 * Whether the request carries a valid device credential for this session (device-binding.ts):
	 * asked only for a session bound to its device. Without it every bound session is refused.
	 */
	deviceCredential?: (cookieHeader: string | null, sessionId: string, now: number) => boolean;
	/** Milliseconds since the epoch; tests move it instead of sleeping. */
	clock?: () => number;
}

type Session = StoredSession['session'];

/**
 * The one place a request's cookie becomes a user and a session. It accepts exactly the
 * cookies Better Auth accepts (name, signature, expiry), applies the session's own policy
 * (absolute lifetime, sliding refresh at most once per refreshSeconds) and writes nothing
 * when no refresh is due.
 */
export function createSessionValidator({
	store,
	revokeSession,
	endings,
	log,
	secret,
	cookies,
	deviceCredential = () => false,
	clock = Date.now
}: SessionValidatorOptions) {
	const cookieName = sessionCookieName(cookies);

	/** Signature → row → absolute lifetime → idle expiry → device credential when bound → refresh when due. */
	function validateSessionCookie(cookieHeader: string | null): Promise<SessionValidationResult> {
		return validate(cookieHeader, false);
	}

	/**
	 * "Stay signed in": the same checks, then the slide now, whatever the refresh interval says —
	 * still never past the absolute lifetime, through the same compare-and-set.
	 */
	function extendSessionCookie(cookieHeader: string | null): Promise<SessionValidationResult> {
		return validate(cookieHeader, true);
	}

	async function validate(cookieHeader: string | null, slideNow: boolean): Promise<SessionValidationResult> {
		const token = verifiedSessionToken(cookieHeader, cookieName, secret);
		// A cookie without a valid signature is never looked up, for its session or its ending.
		if (!token) return signedOut(hasCookie(cookieHeader, cookieName));

		const found = await store.findByToken(token);
		if (!found) {
			const reason = await endings.find(token, clock());
			return reason === null ? signedOut(true) : ended(reason);
		}
		const { session, user } = found;
		const now = clock();

		if (reachedAbsoluteLifetime(session, now)) {
			// Deleted, not just refused, so Better Auth's own getSession agrees from now on.
			await revokeSession(session.token, { log: { event: 'expired', reason: 'absolute-lifetime' } });
			return ended('absolute-lifetime');
		}

		if (idleExpired(session, now)) {
			// The row is left to the purge, so the browser's next requests find it again until the
			// sign-in page clears its cookie: the first logs the end and keeps the reason for that
			// page, the others only read it.
			if ((await endings.find(token, now)) === null) {
				log.session('expired', session.id, { user: session.userId, reason: 'idle' });
				await endings.record([session.token], 'idle', now);
			}
			return ended('idle');
		}

		// A bound session also needs the short-lived credential only its device can renew. Without
		// it the request is refused, not the session ended: the device itself refreshes the
		// credential and goes on, and the session cookie is left alone for it.
		if (session.deviceKey !== null && !deviceCredential(cookieHeader, session.id, now)) return refused();

		if (!slideNow && !refreshDue(session, now)) return { session, user, cookie: null };
		const expiresAt = slidExpiry(session, now);
		// At its absolute limit a session has nothing left to extend.
		if (expiresAt <= session.expiresAt.getTime()) return { session, user, cookie: null };
		const refreshed = { ...session, expiresAt: new Date(expiresAt), updatedAt: new Date(now) };
		// Compare-and-set: of the requests that find the refresh due together, one writes and logs.
		// The others still reissue the cookie, since the row now expires when theirs would have.
		if (await store.extend(session.id, refreshed.expiresAt, refreshed.updatedAt, session.updatedAt)) {
			log.session('refreshed', session.id, {
				user: session.userId,
				policy: session.policy,
				...(slideNow ? { reason: 'stay-signed-in' } : {})
			});
		}
		return { session: refreshed, user, cookie: reissuedCookie(refreshed, now, secret) };
	}

	return { cookieName, validateSessionCookie, extendSessionCookie };
}

export type SessionValidator = ReturnType<typeof createSessionValidator>;

function signedOut(hadCookie: boolean): SessionValidationResult {
	return { session: null, user: null, cookie: hadCookie ? { kind: 'clear' } : null, endedReason: null };
}

/** Signed out for this request only: a bound session without its device credential. */
function refused(): SessionValidationResult {
	return { session: null, user: null, cookie: null, endedReason: null };
}

/** Signed out for a known reason: the cookie stays until the sign-in page has shown it. */
function ended(reason: string): SessionValidationResult {
	return { session: null, user: null, cookie: null, endedReason: reason };
}

function reachedAbsoluteLifetime(session: Session, now: number): boolean {
	return session.absoluteExpiresAt != null && session.absoluteExpiresAt.getTime() <= now;
}

/** Same comparison as Better Auth: a session is valid up to and including its expiresAt. */
function idleExpired(session: Session, now: number): boolean {
	return session.expiresAt.getTime() < now;
}

/** At most one refresh per refreshSeconds, so most requests write nothing. */
function refreshDue(session: Session, now: number): boolean {
	return now - session.updatedAt.getTime() >= session.refreshSeconds * 1000;
}

/** now + the policy's idle time, never past the absolute lifetime. */
function slidExpiry(session: Session, now: number): number {
	const idle = now + session.idleSeconds * 1000;
	return session.absoluteExpiresAt ? Math.min(idle, session.absoluteExpiresAt.getTime()) : idle;
}

/** The same signed token with the new expiry; a browser-session cookie stays one (no maxAge). */
function reissuedCookie(session: Session, now: number, secret: string): CookieAction {
	return {
		kind: 'reissue',
		value: signSessionToken(session.token, secret),
		maxAge: session.persistent ? Math.round((session.expiresAt.getTime() - now) / 1000) : undefined
	};
}
