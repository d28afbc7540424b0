import type { CookieSettings } from './session-cookie';
import { hasCookie, sessionCookieName, signSessionToken, verifiedSessionToken } from './session-cookie';
import type { SessionLog } from '../session-log';
import type { SessionStore, StoredSession } from './session-store';
import { endOfTurn } from '../db/batch-loader';

/** What the response must do with the session cookie; null for nothing. */
export type CookieAction = { kind: 'reissue'; value: string; maxAge: number | undefined } | { kind: 'clear' } | null;

/** The outcome of checking one request's cookie. */
export type SessionCheck =
	(StoredSession & { cookie: CookieAction }) | { session: null; user: null; cookie: CookieAction };

/** Ends a session: its database row, then its Redis copy (revocation.ts); true when this call ended it. */
export type EndSession = (token: string) => Promise<boolean>;

export interface SessionValidatorOptions {
	store: SessionStore;
	endSession: EndSession;
	log: SessionLog;
	secret: string;
	cookies: CookieSettings;
	/** Milliseconds since the epoch; tests move it instead of sleeping. */
	clock?: () => number;
}

/**
 * The one place a request's cookie becomes a user and a session. It accepts exactly the
 * cookies Better Auth accepts (name, signature, expiry), applies the session's own policy
 * (absolute lifetime, sliding refresh at most once per refreshSeconds) and writes nothing
 * when no refresh is due.
 */
export function createSessionValidator({
	store,
	endSession,
	log,
	secret,
	cookies,
	clock = Date.now
}: SessionValidatorOptions) {
	const cookieName = sessionCookieName(cookies);

	async function check(cookieHeader: string | null): Promise<SessionCheck> {
		const token = verifiedSessionToken(cookieHeader, cookieName, secret);
		if (!token) {
			// Waits as a lookup would: the requests of one turn, signed in or not, go on together
			// (../db/batch-loader.ts; a test that fakes setImmediate must let it run).
			await endOfTurn();
			return signedOut(hasCookie(cookieHeader, cookieName));
		}
		const found = await store.findByToken(token);
		if (!found) return signedOut(true);
		const now = clock();
		const { session } = found;
		if (pastAbsoluteLifetime(session, now)) {
			// Deleted, not just refused, so Better Auth's own getSession agrees from now on.
			await endSession(session.token);
			log.session('expired', session.id, { user: session.userId, reason: 'absolute-lifetime' });
			return signedOut(true);
		}
		// Same comparison as Better Auth: a session is valid up to and including its expiresAt.
		if (session.expiresAt.getTime() < now) {
			log.session('expired', session.id, { user: session.userId, reason: 'idle' });
			return signedOut(true);
		}
		return { ...found, cookie: await refreshIfDue(found, now) };
	}

	async function refreshIfDue({ session }: StoredSession, now: number): Promise<CookieAction> {
		if (now - session.updatedAt.getTime() < session.refreshSeconds * 1000) return null;
		const expiresAt = slidExpiry(session, now);
		// At its absolute limit a session has nothing left to extend.
		if (expiresAt <= session.expiresAt.getTime()) return null;
		const wrote = await store.extend(session.id, new Date(expiresAt), new Date(now), session.updatedAt);
		if (wrote) log.session('refreshed', session.id, { user: session.userId, policy: session.policy });
		session.expiresAt = new Date(expiresAt);
		session.updatedAt = new Date(now);
		return {
			kind: 'reissue',
			value: signSessionToken(session.token, secret),
			maxAge: session.persistent ? Math.round((expiresAt - now) / 1000) : undefined
		};
	}

	return { cookieName, check };
}

export type SessionValidator = ReturnType<typeof createSessionValidator>;

function signedOut(hadCookie: boolean): SessionCheck {
	return { session: null, user: null, cookie: hadCookie ? { kind: 'clear' } : null };
}

function pastAbsoluteLifetime(session: StoredSession['session'], now: number): boolean {
	return session.absoluteExpiresAt != null && session.absoluteExpiresAt.getTime() <= now;
}

/** now + the policy's idle time, never past the absolute lifetime. */
function slidExpiry(session: StoredSession['session'], now: number): number {
	const idle = now + session.idleSeconds * 1000;
	return session.absoluteExpiresAt ? Math.min(idle, session.absoluteExpiresAt.getTime()) : idle;
}
