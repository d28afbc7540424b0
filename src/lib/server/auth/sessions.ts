import type { EndedSession, SessionRecord, Storage } from '../db/port';
import { recordSecurityEvent, type NewSecurityEvent } from '../security-log';
import type { SessionLog, SessionLogEvent } from '../session-log';
import { describeDevice } from '../user-agent';
import { clearCachedCopies, type SessionCache } from './session-cache';

/**
 * A user's sessions: listing them and ending them, with one verb, revoke. Every ending goes
 * through revokeSession or revokeUserSessions, which delete the database rows first — that is
 * what the session validator reads, so a session is refused from that moment — and then clear
 * Better Auth's Redis copy (with REDIS_URL) best-effort (session-cache.ts), so a Redis outage
 * never stops one (docs/decisions/0011-revocation-database-first.md). Each writes the session
 * log lines and records the security event of its ending itself: revokeSession only when this
 * call ended the session (concurrent requests find it ended), the ones that end several sessions
 * for those that were active when they were listed.
 *
 * Pages and actions deal in session ids only; tokens stay inside this module (rows are ended by
 * token, and Better Auth's `listSessions` endpoint would hand them to the browser).
 */

/**
 * What this module uses of the Better Auth instance (better-auth.ts). Named here rather than
 * imported, since the instance's sign-in hook ends the session it replaces through this module.
 */
export interface SessionAuth {
	$context: Promise<{
		secondaryStorage?: SessionCache | undefined;
		internalAdapter: { listSessions(userId: string): Promise<unknown[]> };
	}>;
	api: { signOut(request: { headers: Headers }): Promise<unknown> };
}

/** What listing and ending sessions need from this process: Better Auth, the database, the session log. */
export interface SessionServices {
	auth: SessionAuth;
	database: Storage;
	log: SessionLog;
}

/** Where a revocation ends sessions: the database (the truth), Better Auth's cache when configured, the log. */
export interface SessionStorage {
	database: Storage;
	cache: SessionCache | null | undefined;
	log: SessionLog;
}

/** Who is acting, for the security log. */
export interface Actor {
	userId: string;
	sessionId: string;
	ipAddress: string | null;
	userAgent: string | null;
}

/** A session as the sessions page shows it. */
export interface Device {
	id: string;
	description: string;
	ipAddress: string | null;
	createdAt: Date;
	/** The last refresh: activity is recorded at most once per refresh interval, to keep requests write-free. */
	lastActiveAt: Date;
	expiresAt: Date;
	policy: string;
	current: boolean;
}

/** Why a session ends: its session log line (none for a replaced one) and its security event, if any. */
export interface SessionEnding {
	log: { event: Extract<SessionLogEvent, 'revoked' | 'expired'>; reason: string } | null;
	securityEvent?: NewSecurityEvent;
}

/** Why every session of a user ends: the log lines' reason and the event, given how many were active. */
export interface UserSessionsEnding {
	reason: string;
	securityEvent: (sessions: number) => NewSecurityEvent;
}

/** revokeSession bound to this process's storage: what the validator and the network watch are given. */
export type RevokeSession = (token: string, ending: SessionEnding) => Promise<boolean>;

export async function sessionStorageOf({ auth, database, log }: SessionServices): Promise<SessionStorage> {
	return { database, cache: (await auth.$context).secondaryStorage, log };
}

export function sessionRevoker(services: SessionServices): RevokeSession {
	return async (token, ending) => revokeSession(await sessionStorageOf(services), token, ending);
}

/** Ends one session and records its ending; true when this call ended it (false: it had already ended). */
export async function revokeSession(storage: SessionStorage, token: string, ending: SessionEnding): Promise<boolean> {
	const [ended] = await endSessions(storage, [token]);
	if (!ended) return false;
	await recordEnding(storage, [ended], ending);
	return true;
}

/**
 * Ends every session of a user, including one created while this runs: deletes by user id, not
 * by the list read first. The log lines and the event's count cover the sessions that were still
 * active (expired rows are removed as well, but they had already ended). Returns that count.
 */
export async function revokeUserSessions(
	services: SessionServices,
	userId: string,
	ending: UserSessionsEnding,
	now = Date.now()
): Promise<number> {
	const active = await listActiveSessions(services.auth, userId, now);
	const storage = await sessionStorageOf(services);
	const ended = await storage.database.sessions.endByUser(userId);
	await clearCachedCopies(storage.cache, ended);
	await recordEnding(storage, active, {
		log: { event: 'revoked', reason: ending.reason },
		securityEvent: ending.securityEvent(active.length)
	});
	return active.length;
}

/** Ends every session of the actor but the current one; returns how many. */
export async function revokeOtherSessions(services: SessionServices, actor: Actor): Promise<number> {
	const others = (await listActiveSessions(services.auth, actor.userId)).filter(
		(session) => session.id !== actor.sessionId
	);
	const storage = await sessionStorageOf(services);
	await endSessions(
		storage,
		others.map((session) => session.token)
	);
	await recordEnding(storage, others, {
		log: { event: 'revoked', reason: 'others' },
		securityEvent: { ...actor, type: 'SIGNED_OUT_OTHERS', detail: { sessions: others.length } }
	});
	return others.length;
}

/** The actor's active sessions, most recently active first, the current one marked. */
export async function listSessions(services: SessionServices, actor: Actor, now = Date.now()): Promise<Device[]> {
	const sessions = await listActiveSessions(services.auth, actor.userId, now);
	return sessions
		.map((session) => toDevice(session, actor))
		.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
}

/** Ends one of the actor's own sessions; another user's id is simply not found. */
export async function revokeOwnSession(
	services: SessionServices,
	actor: Actor,
	sessionId: string
): Promise<Device | null> {
	const target = (await listActiveSessions(services.auth, actor.userId)).find((session) => session.id === sessionId);
	if (!target) return null;
	await revokeSession(await sessionStorageOf(services), target.token, {
		log: { event: 'revoked', reason: 'revoked' },
		securityEvent: {
			...actor,
			type: 'SESSION_REVOKED',
			detail: { device: describeDevice(target.userAgent), ip: target.ipAddress ?? null }
		}
	});
	return toDevice(target, actor);
}

/**
 * Ends the current session (sign-out) and records it. The row is deleted first, where a failure
 * throws: Better Auth's sign-out logs a failed delete and clears the cookie all the same, which
 * would tell the user they are signed out while the session goes on working. Its sign-out then
 * only clears the cookie (with Redis down it logs that it could not read the copy, and still does).
 */
export async function revokeCurrentSession(services: SessionServices, actor: Actor, headers: Headers): Promise<void> {
	const current = (await listActiveSessions(services.auth, actor.userId)).find(
		(session) => session.id === actor.sessionId
	);
	if (current) {
		await revokeSession(await sessionStorageOf(services), current.token, {
			log: { event: 'revoked', reason: 'sign-out' },
			securityEvent: { ...actor, type: 'SIGN_OUT', detail: {} }
		});
	}
	await services.auth.api.signOut({ headers });
}

/** Ends every session of the actor, this one included (sign out everywhere); returns how many. */
export function revokeAllSessions(services: SessionServices, actor: Actor): Promise<number> {
	return revokeUserSessions(services, actor.userId, {
		reason: 'everywhere',
		securityEvent: (sessions) => ({ ...actor, type: 'SIGNED_OUT_EVERYWHERE', detail: { sessions } })
	});
}

/**
 * Deletes the user with their sessions and linked accounts (the accounts follow by ON DELETE
 * CASCADE); the sessions are deleted explicitly, in the same transaction, to know which cached
 * copies to clear. The security log keeps the event, recorded first, without an email.
 */
export async function deleteAccount(services: SessionServices, actor: Actor): Promise<void> {
	const active = await listActiveSessions(services.auth, actor.userId);
	await recordSecurityEvent(services.database, {
		...actor,
		type: 'ACCOUNT_DELETED',
		detail: { sessions: active.length }
	});
	const storage = await sessionStorageOf(services);
	const ended = await storage.database.sessions.deleteUser(actor.userId);
	await clearCachedCopies(storage.cache, ended);
	await recordEnding(storage, active, { log: { event: 'revoked', reason: 'account-deleted' } });
}

/**
 * A user's sessions that have neither expired nor passed their absolute lifetime. Better Auth
 * returns expired rows too when it has no Redis, and only live ones when it has: filtering here
 * makes both deployments (and the CLI) see the same list.
 */
export async function listActiveSessions(
	auth: SessionAuth,
	userId: string,
	now = Date.now()
): Promise<SessionRecord[]> {
	const sessions = (await (await auth.$context).internalAdapter.listSessions(userId)) as SessionRecord[];
	return sessions.filter(
		(session) =>
			session.expiresAt.getTime() >= now && !(session.absoluteExpiresAt && session.absoluteExpiresAt.getTime() <= now)
	);
}

/** Deletes the rows with these tokens, then clears their cached copies; returns the rows this call deleted. */
async function endSessions(storage: SessionStorage, tokens: string[]): Promise<EndedSession[]> {
	if (tokens.length === 0) return [];
	const ended = await storage.database.sessions.endByTokens(tokens);
	await clearCachedCopies(storage.cache, ended);
	return ended;
}

/** One session log line per ended session, then the ending's security event. */
async function recordEnding(
	storage: SessionStorage,
	ended: Array<Pick<EndedSession, 'id' | 'userId'>>,
	{ log, securityEvent }: SessionEnding
): Promise<void> {
	if (log) {
		for (const session of ended)
			storage.log.session(log.event, session.id, { user: session.userId, reason: log.reason });
	}
	if (securityEvent) await recordSecurityEvent(storage.database, securityEvent);
}

function toDevice(session: SessionRecord, actor: Actor): Device {
	return {
		id: session.id,
		description: describeDevice(session.userAgent),
		ipAddress: session.ipAddress ?? null,
		createdAt: session.createdAt,
		lastActiveAt: session.updatedAt,
		expiresAt: session.expiresAt,
		policy: session.policy,
		current: session.id === actor.sessionId
	};
}
