import type { SecondaryStorage } from '../auth/cached-copies';
import { revokeSessionById, revokeUserSessions } from '../auth/sessions';
import type { SessionRecord, Storage } from '../db/port';
import { purgeExpiredSessions } from '../purge';
import type { NewSecurityEvent, SecurityEventType } from '../security-log';
import { describeDevice } from '../user-agent';
import type { SessionLog } from '../session-log';
import type { SessionEndings } from '../auth/session-endings';
import type { Command, RevokeTarget } from './args';
import {
	formatPurge,
	formatSessionJson,
	formatSessionTable,
	formatStatsJson,
	formatStatsTable,
	plural,
	type PolicyCount,
	type SessionSummary
} from './format';
import { EXIT, type ExitCode, type Output } from './output';

/** The storage, Better Auth's Redis copies, the session log and the endings' reasons: what auth/sessions.ts ends sessions with. */
export interface CommandDependencies {
	database: Storage;
	cache: SecondaryStorage | null;
	log: SessionLog;
	endings: SessionEndings;
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
			return revokeTarget(deps, command.target);
		case 'purge-expired':
			return purgeExpired(deps, command.batchSize ?? deps.purgeBatchSize);
		case 'stats':
			return showStats(deps, command.json);
	}
}

export async function listSessions(deps: CommandDependencies, email: string, json: boolean): Promise<ExitCode> {
	const user = await findUserByEmail(deps, email);
	if (!user) return notFound(deps, `no user with email ${email}`);
	const sessions = (await deps.database.sessions.listActiveByUser(user.id, new Date(now(deps))))
		.map(toSummary)
		.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
	deps.output.stdout(json ? formatSessionJson(sessions) : formatSessionTable(user.email, sessions));
	return EXIT.ok;
}

export function revokeTarget(deps: CommandDependencies, target: RevokeTarget): Promise<ExitCode> {
	return 'email' in target ? revokeSessionsOfUser(deps, target.email) : revokeOneSession(deps, target.sessionId);
}

/** Ends every session of a user (see revokeUserSessions in auth/sessions.ts for what is counted). */
export async function revokeSessionsOfUser(deps: CommandDependencies, email: string): Promise<ExitCode> {
	const user = await findUserByEmail(deps, email);
	if (!user) return notFound(deps, `no user with email ${email}`);
	const count = await revokeUserSessions(
		deps,
		user.id,
		{
			reason: 'cli',
			securityEvent: (sessions) => cliEvent({ userId: user.id, type: 'SIGNED_OUT_EVERYWHERE', sessions })
		},
		now(deps)
	);
	deps.output.stdout(`Ended ${plural(count, 'session')} of ${user.email}.`);
	return EXIT.ok;
}

/** Ends one session, whoever owns it: the operator names it by the id `list` shows. */
export async function revokeOneSession(deps: CommandDependencies, sessionId: string): Promise<ExitCode> {
	const ended = await revokeSessionById(deps, sessionId, (session) => ({
		log: { event: 'revoked', reason: 'cli' },
		securityEvent: cliEvent({ userId: session.userId, sessionId: session.id, type: 'SESSION_REVOKED', sessions: 1 })
	}));
	if (!ended) return notFound(deps, `no session with id ${sessionId}`);
	deps.output.stdout(`Ended 1 session (${ended.id}).`);
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

/** Matched as Better Auth's sign-in matches it: it stores addresses in lower case. */
function findUserByEmail(deps: CommandDependencies, email: string) {
	return deps.database.users.findByEmail(email.toLowerCase());
}

function toSummary(session: SessionRecord): SessionSummary {
	return {
		id: session.id,
		device: describeDevice(session.userAgent),
		ipAddress: session.ipAddress ?? null,
		createdAt: session.createdAt,
		// Activity is written at most once per refresh interval: updatedAt is the last refresh.
		lastActiveAt: session.updatedAt,
		expiresAt: session.expiresAt,
		policy: session.policy,
		boundToDevice: session.deviceKey !== null
	};
}

/** An operator's action has no browser behind it: no address, no user agent. */
function cliEvent(event: {
	userId: string;
	type: SecurityEventType;
	sessions: number;
	sessionId?: string;
}): NewSecurityEvent {
	return {
		userId: event.userId,
		sessionId: event.sessionId ?? null,
		type: event.type,
		ipAddress: null,
		userAgent: null,
		detail: { by: 'cli', sessions: event.sessions }
	};
}

function notFound(deps: CommandDependencies, message: string): ExitCode {
	deps.output.stderr(`sessions: ${message}`);
	return EXIT.failed;
}

function now(deps: CommandDependencies): number {
	return (deps.clock ?? Date.now)();
}

/**
 * Sessions not yet expired, by the policy they were created with. expiresAt alone decides:
 * the validator never slides it past a session's absolute end (see purge.ts).
 */
async function countActiveSessionsByPolicy(database: Storage, now: Date): Promise<PolicyCount[]> {
	const rows = await database.sessions.countActiveByPolicy(now);
	// Largest group first; ties by name, so the output is the same on every engine.
	return rows.sort((a, b) => b.sessions - a.sessions || a.policy.localeCompare(b.policy));
}
