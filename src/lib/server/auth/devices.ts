import { describeDevice } from '../device';
import type { Storage } from '../db/port';
import { recordSecurityEvent, type SecurityEventType } from '../security-log';
import type { SessionLog } from '../session-log';
import type { Auth, Session } from './instance';
import {
	deleteUserAndSessions,
	revokeSession,
	revokeSessions,
	revokeUserSessions,
	sessionStorageOf
} from './revocation';

/**
 * A user's sessions as devices, and ending them. Pages and actions deal in session ids only;
 * tokens stay inside this module (revocation.ts ends sessions by token, and Better Auth's
 * `listSessions` endpoint would hand them to the browser). Every ending goes through
 * revocation.ts: the database rows first, the Redis copy best-effort, so a Redis outage never
 * stops one.
 */
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

export interface SessionControl {
	auth: Auth;
	database: Storage;
	log: SessionLog;
}

/** Who is acting, for the security log. */
export interface Actor {
	userId: string;
	sessionId: string;
	ipAddress: string | null;
	userAgent: string | null;
}

export async function listDevices(control: SessionControl, actor: Actor, now = Date.now()): Promise<Device[]> {
	const sessions = await activeSessions(control, actor.userId, now);
	return sessions
		.map((session) => toDevice(session, actor))
		.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
}

/** Ends one of the actor's own sessions; another user's id is simply not found. */
export async function revokeDevice(control: SessionControl, actor: Actor, sessionId: string): Promise<Device | null> {
	const target = (await activeSessions(control, actor.userId)).find((session) => session.id === sessionId);
	if (!target) return null;
	await revokeSession(await sessionStorageOf(control), target.token);
	control.log.session('revoked', target.id, { user: actor.userId, reason: 'revoked' });
	await record(control, actor, 'SESSION_REVOKED', {
		device: describeDevice(target.userAgent),
		ip: target.ipAddress ?? null
	});
	return toDevice(target, actor);
}

/** Ends every session of the actor but the current one; returns how many. */
export async function signOutOtherDevices(control: SessionControl, actor: Actor): Promise<number> {
	const others = (await activeSessions(control, actor.userId)).filter((session) => session.id !== actor.sessionId);
	await revokeSessions(
		await sessionStorageOf(control),
		others.map((session) => session.token)
	);
	for (const session of others) control.log.session('revoked', session.id, { user: actor.userId, reason: 'others' });
	await record(control, actor, 'SIGNED_OUT_OTHERS', { sessions: others.length });
	return others.length;
}

/**
 * Ends every session of the actor, this one included. Deletes by user id, not by the list
 * read first, so a session created meanwhile (another device signing in) goes too.
 */
export async function signOutEverywhere(control: SessionControl, actor: Actor): Promise<number> {
	const sessions = await activeSessions(control, actor.userId);
	await revokeUserSessions(await sessionStorageOf(control), actor.userId);
	for (const session of sessions)
		control.log.session('revoked', session.id, { user: actor.userId, reason: 'everywhere' });
	await record(control, actor, 'SIGNED_OUT_EVERYWHERE', { sessions: sessions.length });
	return sessions.length;
}

/** Deletes the user, their sessions and linked accounts; the security log keeps the event without an email. */
export async function deleteAccount(control: SessionControl, actor: Actor): Promise<void> {
	const sessions = await activeSessions(control, actor.userId);
	await record(control, actor, 'ACCOUNT_DELETED', { sessions: sessions.length });
	await deleteUserAndSessions(await sessionStorageOf(control), actor.userId);
	for (const session of sessions)
		control.log.session('revoked', session.id, { user: actor.userId, reason: 'account-deleted' });
}

async function internalAdapter({ auth }: Pick<SessionControl, 'auth'>) {
	return (await auth.$context).internalAdapter;
}

async function activeSessions(control: SessionControl, userId: string, now = Date.now()): Promise<Session[]> {
	return activeSessionsOf(control.auth, userId, now);
}

/**
 * A user's sessions that have neither expired nor passed their absolute lifetime. Better Auth
 * returns expired rows too when it has no Redis, and only live ones when it has: filtering here
 * makes both deployments (and the CLI) see the same list.
 */
export async function activeSessionsOf(auth: Auth, userId: string, now = Date.now()): Promise<Session[]> {
	const sessions = (await (await internalAdapter({ auth })).listSessions(userId)) as Session[];
	return sessions.filter(
		(session) =>
			session.expiresAt.getTime() >= now && !(session.absoluteExpiresAt && session.absoluteExpiresAt.getTime() <= now)
	);
}

function toDevice(session: Session, actor: Actor): Device {
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

function record(
	control: SessionControl,
	actor: Actor,
	type: SecurityEventType,
	detail: Record<string, string | number | null>
): Promise<void> {
	return recordSecurityEvent(control.database, { ...actor, type, detail });
}

/**
 * Ends the current session and records it. The row is deleted first, where a failure throws:
 * Better Auth's sign-out logs a failed delete and clears the cookie all the same, which would
 * tell the user they are signed out while the session goes on working. Its sign-out then only
 * clears the cookie (with Redis down it logs that it could not read the copy, and still does).
 */
export async function signOutThisDevice(control: SessionControl, actor: Actor, headers: Headers): Promise<void> {
	const current = (await activeSessions(control, actor.userId)).find((session) => session.id === actor.sessionId);
	if (current) await revokeSession(await sessionStorageOf(control), current.token);
	await control.auth.api.signOut({ headers });
	control.log.session('revoked', actor.sessionId, { user: actor.userId, reason: 'sign-out' });
	await record(control, actor, 'SIGN_OUT', {});
}
