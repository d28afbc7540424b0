import { numberedPlaceholders, type Database } from '../db';
import type { Session, User } from './instance';

export interface StoredSession {
	session: Session;
	user: User;
}

/**
 * The validator's view of the session table: an indexed lookup by token per request, one
 * guarded UPDATE per refresh. Ending a session is Better Auth's job (it also clears its Redis
 * copy). Plain SQL on prepared statements because this runs on every request; the columns are
 * those of db/schema.*.ts, which Better Auth writes through Drizzle.
 */
export interface SessionStore {
	findByToken(token: string): Promise<StoredSession | null>;
	/** Moves expiresAt unless another request refreshed since `seenRefreshAt`; true when this call wrote. */
	extend(sessionId: string, expiresAt: Date, refreshedAt: Date, seenRefreshAt: Date): Promise<boolean>;
	/** Replaces knownNetworks unless another request changed it since `seen`; true when this call wrote. */
	recordNetworks(sessionId: string, networks: string, seen: string): Promise<boolean>;
}

const SESSION_COLUMNS = `s.id, s.token, s.user_id AS "userId", s.expires_at AS "expiresAt", s.created_at AS "createdAt",
	s.updated_at AS "updatedAt", s.ip_address AS "ipAddress", s.user_agent AS "userAgent", s.policy,
	s.idle_seconds AS "idleSeconds", s.refresh_seconds AS "refreshSeconds",
	s.absolute_expires_at AS "absoluteExpiresAt", s.persistent, s.known_networks AS "knownNetworks"`;
const USER_COLUMNS = `u.name AS "userName", u.email AS "userEmail", u.email_verified AS "userEmailVerified",
	u.image AS "userImage", u.created_at AS "userCreatedAt", u.updated_at AS "userUpdatedAt"`;
const FIND_BY_TOKEN = `SELECT ${SESSION_COLUMNS}, ${USER_COLUMNS}
	FROM session s JOIN "user" u ON u.id = s.user_id WHERE s.token = ?`;
const SESSION_BY_TOKEN = `SELECT ${SESSION_COLUMNS} FROM session s WHERE s.token = ?`;
const USER_BY_ID = `SELECT ${USER_COLUMNS} FROM "user" u WHERE u.id = ?`;
const EXTEND = 'UPDATE session SET expires_at = ?, updated_at = ? WHERE id = ? AND updated_at = ?';
const RECORD_NETWORKS = 'UPDATE session SET known_networks = ? WHERE id = ? AND known_networks = ?';

type Row = Record<string, unknown>;

export function createSessionStore(database: Database): SessionStore {
	return database.dialect === 'sqlite' ? sqliteStore(database.client) : postgresStore(database.client);
}

function sqliteStore(client: Extract<Database, { dialect: 'sqlite' }>['client']): SessionStore {
	// Two single-table lookups, not the join: in better-sqlite3 the join costs about three times
	// as much CPU per call (measured with bench/), and this runs on every request. A user deleted
	// between the two reads took their sessions with them (ON DELETE CASCADE): signed out.
	const sessionByToken = client.prepare<[string], Row>(SESSION_BY_TOKEN);
	const userById = client.prepare<[string], Row>(USER_BY_ID);
	const extend = client.prepare<[number, number, string, number]>(EXTEND);
	const recordNetworks = client.prepare<[string, string, string]>(RECORD_NETWORKS);
	return {
		async findByToken(token) {
			const session = sessionByToken.get(token);
			const user = session && userById.get(session.userId as string);
			return user ? toStoredSession({ ...session, ...user }) : null;
		},
		async extend(sessionId, expiresAt, refreshedAt, seenRefreshAt) {
			return extend.run(expiresAt.getTime(), refreshedAt.getTime(), sessionId, seenRefreshAt.getTime()).changes === 1;
		},
		async recordNetworks(sessionId, networks, seen) {
			return recordNetworks.run(networks, sessionId, seen).changes === 1;
		}
	};
}

function postgresStore(pool: Extract<Database, { dialect: 'postgres' }>['client']): SessionStore {
	// Named statements: each pooled connection parses and plans them once.
	const statement = (name: string, text: string) => ({ name: `latchkey_${name}`, text: numberedPlaceholders(text) });
	const find = statement('session_by_token', FIND_BY_TOKEN);
	const extend = statement('session_extend', EXTEND);
	const recordNetworks = statement('session_record_networks', RECORD_NETWORKS);
	return {
		async findByToken(token) {
			const result = await pool.query<Row>({ ...find, values: [token] });
			return result.rows[0] ? toStoredSession(result.rows[0]) : null;
		},
		async extend(sessionId, expiresAt, refreshedAt, seenRefreshAt) {
			const result = await pool.query({ ...extend, values: [expiresAt, refreshedAt, sessionId, seenRefreshAt] });
			return result.rowCount === 1;
		},
		async recordNetworks(sessionId, networks, seen) {
			const result = await pool.query({ ...recordNetworks, values: [networks, sessionId, seen] });
			return result.rowCount === 1;
		}
	};
}

/** SQLite returns milliseconds and 0/1, PostgreSQL Date and boolean. */
function toDate(value: unknown): Date {
	return value instanceof Date ? value : new Date(Number(value));
}

function toStoredSession(row: Row): StoredSession {
	const session = {
		id: row.id as string,
		token: row.token as string,
		userId: row.userId as string,
		expiresAt: toDate(row.expiresAt),
		createdAt: toDate(row.createdAt),
		updatedAt: toDate(row.updatedAt),
		ipAddress: (row.ipAddress as string | null) ?? null,
		userAgent: (row.userAgent as string | null) ?? null,
		policy: row.policy as string,
		idleSeconds: Number(row.idleSeconds),
		refreshSeconds: Number(row.refreshSeconds),
		absoluteExpiresAt: row.absoluteExpiresAt == null ? null : toDate(row.absoluteExpiresAt),
		persistent: row.persistent === true || row.persistent === 1,
		knownNetworks: row.knownNetworks as string
	} satisfies Session;
	const user = {
		id: row.userId as string,
		name: row.userName as string,
		email: row.userEmail as string,
		emailVerified: row.userEmailVerified === true || row.userEmailVerified === 1,
		image: (row.userImage as string | null) ?? null,
		createdAt: toDate(row.userCreatedAt),
		updatedAt: toDate(row.userUpdatedAt)
	} satisfies User;
	return { session, user };
}
