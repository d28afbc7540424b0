import type { Statement } from 'better-sqlite3';
import { numberedPlaceholders, type Database } from '../db';
import { lookupsPerTurn } from '../turns';
import type { Session, User } from './instance';

export interface StoredSession {
	session: Session;
	user: User;
}

/**
 * The validator's view of the session table: an indexed lookup by token per request (answered
 * together for the requests of one event-loop turn, see findByTokenPerTurn; on SQLite from
 * memory while nothing has been written since, see RowsSinceLastWrite), one guarded UPDATE
 * per refresh. Ending a session is revocation.ts's job (database first, then the Redis copy). Plain
 * SQL on prepared statements because this runs on every request; the columns are those of
 * db/schema.*.ts, which Better Auth writes through Drizzle.
 */
export interface SessionStore {
	findByToken(token: string): Promise<StoredSession | null>;
	/** Moves expiresAt unless another request refreshed since `seenRefreshAt`; true when this call wrote. */
	extend(sessionId: string, expiresAt: Date, refreshedAt: Date, seenRefreshAt: Date): Promise<boolean>;
}

/** The columns read per request, in the order toStoredSession takes them. */
const SESSION_COLUMNS = [
	'id',
	'token',
	'user_id',
	'expires_at',
	'created_at',
	'updated_at',
	'ip_address',
	'user_agent',
	'policy',
	'idle_seconds',
	'refresh_seconds',
	'absolute_expires_at',
	'persistent',
	'known_networks'
];
const USER_COLUMNS = ['name', 'email', 'email_verified', 'image', 'created_at', 'updated_at'];
/** `alias.column, …`; `read` may wrap a column, as the PostgreSQL lookup does its timestamps. */
const columnsOf = (
	alias: string,
	columns: string[],
	read: (reference: string, column: string) => string = (reference) => reference
) => columns.map((column) => read(`${alias}.${column}`, column)).join(', ');

const TIMESTAMP_COLUMNS = new Set(['expires_at', 'created_at', 'updated_at', 'absolute_expires_at']);
const asEpochMillis = (reference: string, column: string) =>
	TIMESTAMP_COLUMNS.has(column) ? `(extract(epoch from ${reference}) * 1000)::float8` : reference;
const SESSIONS_BY_TOKENS_AS_JSON = `SELECT json_build_array(${columnsOf('s', SESSION_COLUMNS, asEpochMillis)}, ${columnsOf('u', USER_COLUMNS, asEpochMillis)})::text
	FROM session s JOIN "user" u ON u.id = s.user_id WHERE s.token = ANY(?)`;
const WRITES_SO_FAR = 'SELECT data_version, total_changes() FROM pragma_data_version';
const SESSION_BY_TOKEN = `SELECT ${columnsOf('s', SESSION_COLUMNS)} FROM session s WHERE s.token = ?`;
const USER_BY_ID = `SELECT ${columnsOf('u', USER_COLUMNS)} FROM "user" u WHERE u.id = ?`;
const TOKEN = SESSION_COLUMNS.indexOf('token');
const USER_ID = SESSION_COLUMNS.indexOf('user_id');
const EXTEND = 'UPDATE session SET expires_at = ?, updated_at = ? WHERE id = ? AND updated_at = ?';

/** A row as an array, in column order: the drivers build these far more cheaply than objects. */
type Row = unknown[];

export function createSessionStore(database: Database): SessionStore {
	return database.dialect === 'sqlite' ? sqliteStore(database.client) : postgresStore(database.client);
}

type SqliteClient = Extract<Database, { dialect: 'sqlite' }>['client'];

function sqliteStore(client: SqliteClient): SessionStore {
	// Two single-table lookups, not the join: in better-sqlite3 the join costs about three times
	// as much CPU per call (measured with bench/), and this runs on every request. A user deleted
	// between the two reads took their sessions with them (ON DELETE CASCADE): signed out.
	const sessionByToken = client.prepare<[string], Row>(SESSION_BY_TOKEN).raw(true);
	const userById = client.prepare<[string], Row>(USER_BY_ID).raw(true);
	const extend = client.prepare<[number, number, string, number]>(EXTEND);
	const readRow = (token: string): Row | undefined => {
		const session = sessionByToken.get(token);
		const user = session && userById.get(session[USER_ID] as string);
		return user && [...session, ...user];
	};
	const rowsSinceLastWrite = new RowsSinceLastWrite(client, readRow);
	return {
		findByToken: findByTokenPerTurn(async (tokens) => rowsSinceLastWrite.read(tokens)),
		async extend(sessionId, expiresAt, refreshedAt, seenRefreshAt) {
			return extend.run(expiresAt.getTime(), refreshedAt.getTime(), sessionId, seenRefreshAt.getTime()).changes === 1;
		}
	};
}

/**
 * Session rows already read, valid for as long as nothing has been written to the database
 * since: not by this connection (total_changes() counts every row it inserted, updated or
 * deleted) and not by any other (data_version changes when another connection commits — the
 * CLI, another process). Asking both is one statement, asked once for all the lookups of a
 * turn; any write at all empties the whole cache, so a revoked session is refused on the next
 * request exactly as without it. Nothing is kept while a transaction is open, since it may
 * roll back.
 */
class RowsSinceLastWrite {
	readonly #client: SqliteClient;
	readonly #readRow: (token: string) => Row | undefined;
	readonly #writes: Statement<[], [number, number]>;
	readonly #rows = new Map<string, Row>();
	#seen = '';

	constructor(client: SqliteClient, readRow: (token: string) => Row | undefined) {
		this.#client = client;
		this.#readRow = readRow;
		this.#writes = client.prepare<[], [number, number]>(WRITES_SO_FAR).raw(true);
	}

	/** The rows of `tokens` that exist: from memory when nothing was written since, else read afresh. */
	read(tokens: string[]): Map<string, Row> {
		this.#forgetIfWritten();
		const found = new Map<string, Row>();
		for (const token of tokens) {
			let row = this.#rows.get(token);
			if (!row) {
				row = this.#readRow(token);
				if (row) this.#keep(token, row);
			}
			if (row) found.set(token, row);
		}
		return found;
	}

	#forgetIfWritten(): void {
		const stamp = this.#writes.get()!.join(':');
		if (stamp !== this.#seen || this.#client.inTransaction) {
			this.#rows.clear();
			this.#seen = stamp;
		}
	}

	#keep(token: string, row: Row): void {
		if (this.#client.inTransaction) return;
		if (this.#rows.size >= MAX_CACHED_ROWS) this.#rows.delete(this.#rows.keys().next().value!);
		this.#rows.set(token, row);
	}
}

const MAX_CACHED_ROWS = 10_000;

function postgresStore(pool: Extract<Database, { dialect: 'postgres' }>['client']): SessionStore {
	// Named statements: each pooled connection parses and plans them once.
	const statement = (name: string, text: string) => ({ name: `latchkey_${name}`, text: numberedPlaceholders(text) });
	// The row as one JSON array with times as epoch milliseconds: pg describes and parses every
	// column of every row it receives (a type parser each, a Date per timestamp), and one text
	// column costs this process about a third less CPU per lookup (measured with bench/).
	const find = statement('sessions_by_tokens_json', SESSIONS_BY_TOKENS_AS_JSON);
	const extend = statement('session_extend', EXTEND);
	return {
		findByToken: findByTokenPerTurn(async (tokens) => {
			const result = await pool.query<[string]>({ ...find, values: [tokens], rowMode: 'array' });
			const rows = result.rows.map(([json]) => JSON.parse(json) as Row);
			return new Map(rows.map((row) => [row[TOKEN] as string, row]));
		}),
		async extend(sessionId, expiresAt, refreshedAt, seenRefreshAt) {
			const result = await pool.query({ ...extend, values: [expiresAt, refreshedAt, sessionId, seenRefreshAt] });
			return result.rowCount === 1;
		}
	};
}

/**
 * findByToken for both dialects: the lookups asked for during one turn of the event loop are
 * answered together once the turn's other work is done (../turns.ts). On PostgreSQL
 * they share one query — the round trip costs this process and the server far more than the
 * lookup itself; on SQLite, one check for writes since. Every lookup still runs after its
 * request arrived, so a session ended before that is never found.
 */
function findByTokenPerTurn(readRows: (tokens: string[]) => Promise<Map<string, Row>>) {
	const rowsByToken = lookupsPerTurn(readRows);
	return async (token: string): Promise<StoredSession | null> => {
		const row = await rowsByToken(token);
		return row ? toStoredSession(row) : null;
	};
}

/** Times arrive as epoch milliseconds from both; booleans as 0/1 from SQLite, true/false from PostgreSQL. */
function toDate(millis: unknown): Date {
	return new Date(millis as number);
}

function toStoredSession(row: Row): StoredSession {
	const [
		id,
		token,
		userId,
		expiresAt,
		createdAt,
		updatedAt,
		ipAddress,
		userAgent,
		policy,
		idleSeconds,
		refreshSeconds,
		absoluteExpiresAt,
		persistent,
		knownNetworks,
		name,
		email,
		emailVerified,
		image,
		userCreatedAt,
		userUpdatedAt
	] = row;
	const session = {
		id: id as string,
		token: token as string,
		userId: userId as string,
		expiresAt: toDate(expiresAt),
		createdAt: toDate(createdAt),
		updatedAt: toDate(updatedAt),
		ipAddress: (ipAddress as string | null) ?? null,
		userAgent: (userAgent as string | null) ?? null,
		policy: policy as string,
		idleSeconds: Number(idleSeconds),
		refreshSeconds: Number(refreshSeconds),
		absoluteExpiresAt: absoluteExpiresAt == null ? null : toDate(absoluteExpiresAt),
		persistent: persistent === true || persistent === 1,
		knownNetworks: knownNetworks as string
	} satisfies Session;
	const user = {
		id: userId as string,
		name: name as string,
		email: email as string,
		emailVerified: emailVerified === true || emailVerified === 1,
		image: (image as string | null) ?? null,
		createdAt: toDate(userCreatedAt),
		updatedAt: toDate(userUpdatedAt)
	} satisfies User;
	return { session, user };
}
