import type { Storage } from '../db/port';
import type { PolicyCount } from './format';

/**
 * The two reads Better Auth's internal adapter has no call for: a session by its id (it only
 * looks sessions up by token or user) and a count over every user's sessions.
 */

export interface SessionOwner {
	id: string;
	userId: string;
	/** Needed to end the session through Better Auth; never leaves the commands module. */
	token: string;
}

export async function findSessionById(database: Storage, sessionId: string): Promise<SessionOwner | null> {
	return database.sessions.findById(sessionId);
}

/**
 * Sessions not yet expired, by the policy they were created with. expiresAt alone decides:
 * the validator never slides it past a session's absolute end (see purge.ts).
 */
export async function countActiveSessionsByPolicy(database: Storage, now: Date): Promise<PolicyCount[]> {
	const rows = await database.sessions.countActiveByPolicy(now);
	// Largest group first; ties by name, so the output is the same on every engine.
	return rows.sort((a, b) => b.sessions - a.sessions || a.policy.localeCompare(b.policy));
}
