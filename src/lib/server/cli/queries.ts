import type { Storage } from '../db/port';
import type { PolicyCount } from './format';

/**
 * Sessions not yet expired, by the policy they were created with. expiresAt alone decides:
 * the validator never slides it past a session's absolute end (see purge.ts).
 */
export async function countActiveSessionsByPolicy(database: Storage, now: Date): Promise<PolicyCount[]> {
	const rows = await database.sessions.countActiveByPolicy(now);
	// Largest group first; ties by name, so the output is the same on every engine.
	return rows.sort((a, b) => b.sessions - a.sessions || a.policy.localeCompare(b.policy));
}
