import { count, eq, gte } from 'drizzle-orm';
import type { Database } from '../db';
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

export async function findSessionById(database: Database, sessionId: string): Promise<SessionOwner | null> {
	if (database.dialect === 'sqlite') {
		const { db, schema } = database;
		const columns = { id: schema.session.id, userId: schema.session.userId, token: schema.session.token };
		return db.select(columns).from(schema.session).where(eq(schema.session.id, sessionId)).get() ?? null;
	}
	const { db, schema } = database;
	const columns = { id: schema.session.id, userId: schema.session.userId, token: schema.session.token };
	const rows = await db.select(columns).from(schema.session).where(eq(schema.session.id, sessionId)).limit(1);
	return rows[0] ?? null;
}

/**
 * Sessions not yet expired, by the policy they were created with. expiresAt alone decides:
 * the validator never slides it past a session's absolute end (see purge.ts).
 */
export async function countActiveSessionsByPolicy(database: Database, now: Date): Promise<PolicyCount[]> {
	const rows =
		database.dialect === 'sqlite'
			? database.db
					.select({ policy: database.schema.session.policy, sessions: count() })
					.from(database.schema.session)
					.where(gte(database.schema.session.expiresAt, now))
					.groupBy(database.schema.session.policy)
					.all()
			: await database.db
					.select({ policy: database.schema.session.policy, sessions: count() })
					.from(database.schema.session)
					.where(gte(database.schema.session.expiresAt, now))
					.groupBy(database.schema.session.policy);
	// Largest group first; ties by name, so the output is the same on both databases.
	return rows.sort((a, b) => b.sessions - a.sessions || a.policy.localeCompare(b.policy));
}
