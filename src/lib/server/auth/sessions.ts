import { getConfig } from '../config';
import { getStorage } from '../db';
import type { EndedSession, SessionRecord, Storage } from '../db/port';
import { getRedis } from '../redis';
import { recordSecurityEvent, type NewSecurityEvent } from '../security-log';
import { createSessionLog, type SessionLog, type SessionLogEvent } from '../session-log';
import { describeDevice } from '../user-agent';
import { clearCachedCopies, secondaryStorageOf, type SecondaryStorage } from './cached-copies';
import { createSessionEndings, type SessionEndings } from './session-endings';

/**
 * A user's sessions: listing them and ending them, with one verb, revoke, through the storage
 * port. Every ending deletes the database rows first — that is what the session validator
 * reads, so a session is refused from that moment — and then clears Better Auth's Redis copy
 * (with REDIS_URL) best-effort (cached-copies.ts), so a Redis outage never stops one
 * (docs/decisions/0011-revocation-database-first.md). Each writes the session log lines and
 * records the security event of its ending itself, and its reason for the browser that held it
 * (session-endings.ts), right after the delete: one that ends a single session only when
 * this call deleted it (concurrent requests find it ended), the ones that end several sessions
 * for those that were active when they were listed.
 *
 * Pages and actions deal in session ids only; tokens stay inside this module and the storage.
 * Their functions take the actor (requestActor in guards.ts) and this process's services by
 * default; tests and the command-line tool pass their own.
 */

/**
 * What listing and ending sessions need: the database (the truth the validator reads), Better
 * Auth's Redis copies when REDIS_URL is set, the session log, and where the reasons of endings
 * are kept for the browsers that held them. No Better Auth instance: the command-line tool ends
 * sessions with these alone.
 */
export interface SessionServices {
	database: Storage;
	cache: SecondaryStorage | null;
	log: SessionLog;
	endings: SessionEndings;
}

let services: SessionServices | undefined;

/** This process's services, built on first use (the configuration's database, Redis and secret). */
export function getSessionServices(): SessionServices {
	if (!services) {
		const redis = getRedis();
		const { secret } = getConfig();
		services = {
			database: getStorage(),
			cache: redis ? secondaryStorageOf(redis) : null,
			log: createSessionLog(secret),
			endings: createSessionEndings(getStorage().endings, secret)
		};
	}
	return services;
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
	/** Bound to a key its browser keeps on the device (device-binding.ts): its cookie alone does not sign in elsewhere. */
	bound: boolean;
}

/**
 * Why a session ends: its session log line (none for a replaced one) and its security event, if
 * any. The log line's reason is also what the browser that held the session is told (any string:
 * session-endings.ts has a sentence for each of the shared vocabulary and one for the rest).
 */
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

export function sessionRevoker(services: SessionServices): RevokeSession {
	return (token, ending) => revokeSession(services, token, ending);
}

/** Ends one session and records its ending; true when this call ended it (false: it had already ended). */
export async function revokeSession(services: SessionServices, token: string, ending: SessionEnding): Promise<boolean> {
	const ended = await services.database.sessions.endByTokens([token]);
	await finishEnding(services, ended, ending);
	return ended.length > 0;
}

/**
 * Ends one session by its id, whoever owns it (the command-line tool), and records its ending;
 * returns the ended row, or null when there was no such session.
 */
export async function revokeSessionById(
	services: SessionServices,
	sessionId: string,
	ending: (ended: EndedSession) => SessionEnding
): Promise<EndedSession | null> {
	const ended = await services.database.sessions.endById(sessionId);
	if (ended) await finishEnding(services, [ended], ending(ended));
	return ended;
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
	const active = await services.database.sessions.listActiveByUser(userId, new Date(now));
	const ended = await services.database.sessions.endByUser(userId);
	await forgetEnded(services, ended, ending.reason);
	await recordEnding(services, active, {
		log: { event: 'revoked', reason: ending.reason },
		securityEvent: ending.securityEvent(active.length)
	});
	return active.length;
}

/** The session a sign-in just created, as the concurrent-session limit sees it. */
export interface NewSession {
	id: string;
	userId: string;
	ipAddress?: string | null;
	userAgent?: string | null;
}

/**
 * MAX_SESSIONS_PER_USER after a sign-in (the action end-oldest): ends the user's least recently
 * active sessions beyond `limit`, never `created`. The storage counts and deletes under a lock
 * on the user, so sign-ins at the same moment never leave more than the limit. Each ended
 * session has its log line (reason session-limit) and its SESSION_LIMIT_REACHED event, recorded
 * by the new session. Returns how many ended.
 */
export async function enforceSessionLimit(
	services: SessionServices,
	created: NewSession,
	limit: number,
	now = Date.now()
): Promise<number> {
	const ended = await services.database.sessions.endBeyondLimit(created.userId, created.id, limit, new Date(now));
	await finishEnding(services, ended, {
		log: { event: 'revoked', reason: 'session-limit' },
		securityEvent: {
			userId: created.userId,
			sessionId: created.id,
			ipAddress: created.ipAddress ?? null,
			userAgent: created.userAgent ?? null,
			type: 'SESSION_LIMIT_REACHED',
			detail: { sessions: ended.length, limit }
		}
	});
	return ended.length;
}

/**
 * MAX_SESSIONS_PER_USER after a sign-in, with the action refuse: deletes `created` when the user
 * already has `limit` other active sessions, under the same lock as enforceSessionLimit, so of
 * sign-ins at the same moment as many stay as there is room for. A refused session was never
 * handed to a browser: no reason is kept for it, and the user's SIGN_IN_REFUSED event stands for
 * it. Returns true when `created` was refused.
 */
export async function refuseSessionOverLimit(
	services: SessionServices,
	created: NewSession & { method: string },
	limit: number,
	now = Date.now()
): Promise<boolean> {
	const refused = await services.database.sessions.refuseBeyondLimit(created.userId, created.id, limit, new Date(now));
	if (!refused) return false;
	await finishEnding(services, [refused], {
		log: null,
		securityEvent: {
			userId: created.userId,
			ipAddress: created.ipAddress ?? null,
			userAgent: created.userAgent ?? null,
			type: 'SIGN_IN_REFUSED',
			detail: { method: created.method, limit }
		}
	});
	return true;
}

/**
 * The actor's active sessions, most recently active first, the current one marked.
 * `services` defaults to this process's; tests pass their own.
 */
export async function listSessions(actor: Actor, services = getSessionServices(), now = Date.now()): Promise<Device[]> {
	const sessions = await services.database.sessions.listActiveByUser(actor.userId, new Date(now));
	return sessions
		.map((session) => toDevice(session, actor))
		.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
}

/** Ends one of the actor's own active sessions; another user's id is simply not found (null). */
export async function revokeOwnSession(
	actor: Actor,
	sessionId: string,
	services = getSessionServices()
): Promise<Device | null> {
	const target = await services.database.sessions.endOwn(actor.userId, sessionId, new Date());
	if (!target) return null;
	await finishEnding(services, [target], {
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
 * Ends the current session (sign-out) and records it. A failure to delete the row throws, so
 * the caller never tells the user they are signed out while the session goes on working; the
 * caller clears the cookie once this has returned.
 */
export async function revokeCurrentSession(actor: Actor, services = getSessionServices()): Promise<void> {
	const current = await services.database.sessions.endOwn(actor.userId, actor.sessionId, new Date());
	if (!current) return;
	await finishEnding(services, [current], {
		log: { event: 'revoked', reason: 'sign-out' },
		securityEvent: { ...actor, type: 'SIGN_OUT', detail: {} }
	});
}

/**
 * Ends every session of the actor but the current one, including one created while this runs;
 * the log lines and the count cover the other sessions that were active. Returns that count.
 */
export function revokeOtherSessions(actor: Actor, services = getSessionServices()): Promise<number> {
	return revokeOtherSessionsFor(
		actor,
		{ reason: 'others', securityEvent: (sessions) => ({ ...actor, type: 'SIGNED_OUT_OTHERS', detail: { sessions } }) },
		services
	);
}

/**
 * revokeOtherSessions for a cause of its own (an email change): the log lines carry `ending.reason`
 * and the one security event is the cause's, given how many other sessions were active.
 */
export async function revokeOtherSessionsFor(
	actor: Actor,
	ending: UserSessionsEnding,
	services = getSessionServices()
): Promise<number> {
	const others = (await services.database.sessions.listActiveByUser(actor.userId, new Date())).filter(
		(session) => session.id !== actor.sessionId
	);
	const ended = await services.database.sessions.endOthers(actor.userId, actor.sessionId);
	await forgetEnded(services, ended, ending.reason);
	await recordEnding(services, others, {
		log: { event: 'revoked', reason: ending.reason },
		securityEvent: ending.securityEvent(others.length)
	});
	return others.length;
}

/** Ends every session of the actor, this one included (sign out everywhere); returns how many. */
export function revokeAllSessions(actor: Actor, services = getSessionServices()): Promise<number> {
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
export async function deleteAccount(actor: Actor, services = getSessionServices()): Promise<void> {
	const active = await services.database.sessions.listActiveByUser(actor.userId, new Date());
	await recordSecurityEvent(services.database, {
		...actor,
		type: 'ACCOUNT_DELETED',
		detail: { sessions: active.length }
	});
	const ended = await services.database.sessions.deleteUser(actor.userId);
	await forgetEnded(services, ended, 'account-deleted');
	await recordEnding(services, active, { log: { event: 'revoked', reason: 'account-deleted' } });
}

/**
 * After the rows are deleted: the reason kept for the browsers that held them (first, so their
 * next request finds it), their cached copies cleared, then their ending recorded.
 */
async function finishEnding(services: SessionServices, ended: EndedSession[], ending: SessionEnding): Promise<void> {
	if (ended.length === 0) return;
	await forgetEnded(services, ended, ending.log?.reason ?? null);
	await recordEnding(services, ended, ending);
}

/**
 * What every ending does once its rows are deleted: keeps the reason for the browsers that held
 * them (first, so their next request finds it; none for a replaced session), then clears their
 * cached copies.
 */
async function forgetEnded(services: SessionServices, ended: EndedSession[], reason: string | null): Promise<void> {
	if (reason !== null) await services.endings.record(tokensOf(ended), reason);
	await clearCachedCopies(services.cache, ended);
}

/** One session log line per ended session, then the ending's security event. */
async function recordEnding(
	services: SessionServices,
	ended: Array<Pick<EndedSession, 'id' | 'userId'>>,
	{ log, securityEvent }: SessionEnding
): Promise<void> {
	if (log) {
		for (const session of ended)
			services.log.session(log.event, session.id, { user: session.userId, reason: log.reason });
	}
	if (securityEvent) await recordSecurityEvent(services.database, securityEvent);
}

function tokensOf(ended: Array<Pick<EndedSession, 'token'>>): string[] {
	return ended.map((session) => session.token);
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
		current: session.id === actor.sessionId,
		bound: session.deviceKey !== null
	};
}
