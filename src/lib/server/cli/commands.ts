import { activeSessionsOf } from '../auth/devices';
import type { Auth, Session } from '../auth/instance';
import {
	revokeSession as endSession,
	revokeUserSessions as endUserSessions,
	sessionStorageOf
} from '../auth/revocation';
import type { Storage } from '../db/port';
import { describeDevice } from '../device';
import { purgeExpiredSessions } from '../purge';
import { recordSecurityEvent, type SecurityEventType } from '../security-log';
import type { SessionLog } from '../session-log';
import type { Command, RevokeTarget } from './args';
import {
	formatPurge,
	formatSessionJson,
	formatSessionTable,
	formatStatsJson,
	formatStatsTable,
	plural,
	type SessionSummary
} from './format';
import { EXIT, type ExitCode, type Output } from './output';
import { countActiveSessionsByPolicy, findSessionById } from './queries';

export interface CommandDependencies {
	database: Storage;
	auth: Auth;
	log: SessionLog;
	output: Output;
	/** PURGE_BATCH_SIZE: what purge-expired deletes per statement when --batch is not given. */
	purgeBatchSize: number;
	clock?: () => number;
}

/** Every command but help, which needs no database. */
export type DatabaseCommand = Exclude<Command, { name: 'help' }>;

/** Pause between purge batches, as the scheduled purge does: requests get the database in between. */
const PURGE_PAUSE_MS = 20;

export async function runCommand(command: DatabaseCommand, deps: CommandDependencies): Promise<ExitCode> {
	switch (command.name) {
		case 'list':
			return listSessions(deps, command.email, command.json);
		case 'revoke':
			return revoke(deps, command.target);
		case 'purge-expired':
			return purgeExpired(deps, command.batchSize ?? deps.purgeBatchSize);
		case 'stats':
			return showStats(deps, command.json);
	}
}

export async function listSessions(deps: CommandDependencies, email: string, json: boolean): Promise<ExitCode> {
	const user = await findUserByEmail(deps, email);
	if (!user) return notFound(deps, `no user with email ${email}`);
	const sessions = (await activeSessionsOf(deps.auth, user.id, now(deps)))
		.map(toSummary)
		.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
	deps.output.stdout(json ? formatSessionJson(sessions) : formatSessionTable(user.email, sessions));
	return EXIT.ok;
}

export function revoke(deps: CommandDependencies, target: RevokeTarget): Promise<ExitCode> {
	return 'email' in target ? revokeUserSessions(deps, target.email) : revokeSession(deps, target.sessionId);
}

/**
 * Ends every session of a user. Deletes by user id rather than by the list read first, so a
 * session created meanwhile goes too; the count and the log lines cover the sessions that were
 * still active (expired rows are removed as well, but they had already ended).
 */
export async function revokeUserSessions(deps: CommandDependencies, email: string): Promise<ExitCode> {
	const user = await findUserByEmail(deps, email);
	if (!user) return notFound(deps, `no user with email ${email}`);
	const sessions = await activeSessionsOf(deps.auth, user.id, now(deps));
	await endUserSessions(await sessionStorageOf(deps), user.id);
	for (const session of sessions) deps.log.session('revoked', session.id, { user: user.id, reason: 'cli' });
	await recordCliEvent(deps, { userId: user.id, type: 'SIGNED_OUT_EVERYWHERE', sessions: sessions.length });
	deps.output.stdout(`Ended ${plural(sessions.length, 'session')} of ${user.email}.`);
	return EXIT.ok;
}

/** Ends one session, whoever owns it: the operator names it by the id `list` shows. */
export async function revokeSession(deps: CommandDependencies, sessionId: string): Promise<ExitCode> {
	const session = await findSessionById(deps.database, sessionId);
	if (!session) return notFound(deps, `no session with id ${sessionId}`);
	// The row first, then the session's Redis copy (best-effort): see auth/revocation.ts.
	await endSession(await sessionStorageOf(deps), session.token);
	deps.log.session('revoked', session.id, { user: session.userId, reason: 'cli' });
	await recordCliEvent(deps, { userId: session.userId, sessionId: session.id, type: 'SESSION_REVOKED', sessions: 1 });
	deps.output.stdout(`Ended 1 session (${session.id}).`);
	return EXIT.ok;
}

export async function purgeExpired(deps: CommandDependencies, batchSize: number): Promise<ExitCode> {
	const result = await purgeExpiredSessions(deps.database, { batchSize, pauseMs: PURGE_PAUSE_MS, now: deps.clock });
	deps.output.stdout(formatPurge(result));
	return EXIT.ok;
}

export async function showStats(deps: CommandDependencies, json: boolean): Promise<ExitCode> {
	const counts = await countActiveSessionsByPolicy(deps.database, new Date(now(deps)));
	deps.output.stdout(json ? formatStatsJson(counts) : formatStatsTable(counts));
	return EXIT.ok;
}

async function internalAdapter({ auth }: CommandDependencies) {
	return (await auth.$context).internalAdapter;
}

/** Better Auth's own lookup, so the email is matched exactly as sign-in matches it (case-insensitively). */
async function findUserByEmail(deps: CommandDependencies, email: string) {
	return (await (await internalAdapter(deps)).findUserByEmail(email))?.user ?? null;
}

function toSummary(session: Session): SessionSummary {
	return {
		id: session.id,
		device: describeDevice(session.userAgent),
		ipAddress: session.ipAddress ?? null,
		createdAt: session.createdAt,
		// Activity is written at most once per refresh interval: updatedAt is the last refresh.
		lastActiveAt: session.updatedAt,
		expiresAt: session.expiresAt,
		policy: session.policy
	};
}

/** An operator's action has no browser behind it: no address, no user agent. */
function recordCliEvent(
	deps: CommandDependencies,
	event: { userId: string; type: SecurityEventType; sessions: number; sessionId?: string }
): Promise<void> {
	return recordSecurityEvent(deps.database, {
		userId: event.userId,
		sessionId: event.sessionId ?? null,
		type: event.type,
		ipAddress: null,
		userAgent: null,
		detail: { by: 'cli', sessions: event.sessions }
	});
}

function notFound(deps: CommandDependencies, message: string): ExitCode {
	deps.output.stderr(`sessions: ${message}`);
	return EXIT.failed;
}

function now(deps: CommandDependencies): number {
	return (deps.clock ?? Date.now)();
}
