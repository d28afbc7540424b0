import type { drizzleAdapter } from 'better-auth/adapters/drizzle';

/**
 * The storage port: everything above `db/` reads and writes through this interface, and each
 * engine (`db/<engine>/`) implements it with its own SQL. Times are Dates, booleans booleans,
 * whatever the engine stores. At the end, the contract each engine's folder fulfils (`Engine`).
 */
export interface Storage {
	/** The engine's name in the registry (db/engines.ts). */
	readonly engine: string;
	/** Where the data lives, for log lines: the engine and its file or server, without credentials. */
	readonly description: string;
	/** What Better Auth's Drizzle adapter is built from: it writes users, sessions and codes itself. */
	readonly betterAuth: BetterAuthDatabase;
	/**
	 * True when a statement runs on the event loop (an embedded engine): every request waits
	 * for it, so long jobs (the purge) keep each statement short.
	 */
	readonly runsOnEventLoop: boolean;
	readonly sessions: SessionRows;
	readonly users: UserRows;
	readonly securityEvents: SecurityEventRows;
	readonly rateLimits: RateLimitWindows;
	readonly codes: CodeRows;
	readonly endings: SessionEndingRows;
	readonly purge: PurgeRows;
	/**
	 * Brings the schema up to date from the migrations under `root` (the working directory by
	 * default). Instances starting together take a lock: one migrates, the others wait for it
	 * and find nothing left to do.
	 */
	migrate(root?: string): Promise<void>;
	/** A cheap round trip, for /healthz. */
	ping(): Promise<void>;
	/**
	 * What is wrong with the database when `error` (or an error it wraps) says it cannot be used
	 * now — locked, read-only, out of reach, shutting down, past a timeout — null for any other
	 * error. Such a request deserves a 503 and "try again", not a 500.
	 */
	classifyFault(error: unknown): string | null;
	close(): Promise<void>;
}

export type BetterAuthDatabase = {
	db: Parameters<typeof drizzleAdapter>[0];
	provider: Parameters<typeof drizzleAdapter>[1]['provider'];
	schema: Record<string, unknown>;
};

/** A session row, keyed as the schema is; Better Auth's core fields plus the policy columns Latchkey adds. */
export interface SessionRecord {
	id: string;
	token: string;
	userId: string;
	expiresAt: Date;
	createdAt: Date;
	updatedAt: Date;
	ipAddress: string | null;
	userAgent: string | null;
	policy: string;
	idleSeconds: number;
	refreshSeconds: number;
	absoluteExpiresAt: Date | null;
	knownNetworks: string;
	persistent: boolean;
	/**
	 * The device key a DBSC browser registered for this session, as JSON `{ alg, jwk }`
	 * (auth/device-binding.ts); null while the session is not bound to its device. Read with the
	 * session on every lookup, so a bound session costs no second read.
	 */
	deviceKey: string | null;
	/** When the session was bound to its device; null when it is not. */
	deviceBoundAt: Date | null;
}

export interface UserRecord {
	id: string;
	name: string;
	email: string;
	emailVerified: boolean;
	image: string | null;
	createdAt: Date;
	updatedAt: Date;
}

export interface StoredSession {
	session: SessionRecord;
	user: UserRecord;
}

/** A session row that was deleted: enough to clear its cached copy and log it. */
export interface EndedSession {
	id: string;
	token: string;
	userId: string;
}

/** A session's networks changing, written only while the row still holds `seen` (compare-and-set). */
export interface NetworksChange {
	sessionId: string;
	/** The session's networks with the new one. */
	networks: string;
	/** Its networks as the request read them. */
	seen: string;
}

export interface SessionRows {
	/** The session with this token and its user; null when there is none. */
	findByToken(token: string): Promise<StoredSession | null>;
	/** Moves expiresAt unless another request refreshed since `seenRefreshAt`; true when this call wrote. */
	extend(sessionId: string, expiresAt: Date, refreshedAt: Date, seenRefreshAt: Date): Promise<boolean>;
	/**
	 * Stores the event and the session's new networks together, or neither: false (and no event)
	 * when another request changed the session's networks since `change.seen` was read.
	 */
	recordNetwork(event: SecurityEventRow, change: NetworksChange): Promise<boolean>;
	/**
	 * A user's active sessions at `now`, as the validator counts them: `expiresAt` not before
	 * `now`, and `absoluteExpiresAt` (when set) after it.
	 */
	listActiveByUser(userId: string, now: Date): Promise<SessionRecord[]>;
	/**
	 * Binds the session to the device key `deviceKey` (JSON `{ alg, jwk }`) unless it is bound
	 * already or gone: true when this call wrote it. A key is never replaced: a second
	 * registration for the same session is refused.
	 */
	bindDevice(sessionId: string, deviceKey: string, boundAt: Date): Promise<boolean>;
	/** Sessions not expired at `now`, counted by the policy they were created with (in no particular order). */
	countActiveByPolicy(now: Date): Promise<Array<{ policy: string; sessions: number }>>;
	/** Each returns the rows this call deleted: a session already gone is not among them. */
	endByTokens(tokens: string[]): Promise<EndedSession[]>;
	endById(sessionId: string): Promise<EndedSession | null>;
	/**
	 * The session `sessionId` when it is the user's and active at `now` (as listActiveByUser
	 * counts it), deleted in one statement and returned whole; null for any other id.
	 */
	endOwn(userId: string, sessionId: string, now: Date): Promise<SessionRecord | null>;
	/** Every session of the user, including one created while this runs. */
	endByUser(userId: string): Promise<EndedSession[]>;
	/** Every session of the user but `keptSessionId`. */
	endOthers(userId: string, keptSessionId: string): Promise<EndedSession[]>;
	/**
	 * Leaves the user at most `limit` sessions active at `now`: `keptSessionId` and the `limit - 1`
	 * most recently active others (latest `updatedAt`, then latest `createdAt`); the rest are
	 * deleted and returned. Nothing is deleted when `keptSessionId` has already ended: the call
	 * that ended it kept its own session and the limit. Runs under a lock on the user's row (SQLite: the write lock), so
	 * concurrent calls for one user run one after another and each sees every session the
	 * previous ones left.
	 */
	endBeyondLimit(userId: string, keptSessionId: string, limit: number, now: Date): Promise<EndedSession[]>;
	/**
	 * Deletes and returns the new session `newSessionId` when the user already has `limit` other
	 * sessions active at `now`; null (nothing deleted) when there is room for it, or it is gone.
	 * Runs under the same lock as endBeyondLimit, so of sign-ins at the same moment as many stay
	 * as there is room for and the rest are refused, never more.
	 */
	refuseBeyondLimit(userId: string, newSessionId: string, limit: number, now: Date): Promise<EndedSession | null>;
	/** Deletes the user with their sessions (returned) and, by the foreign keys, their accounts: one transaction. */
	deleteUser(userId: string): Promise<EndedSession[]>;
}

export interface UserRows {
	/** The user whose email is exactly `email` (Better Auth stores addresses in lower case); null when none. */
	findByEmail(email: string): Promise<Pick<UserRecord, 'id' | 'email'> | null>;
	/** The user with this id and their address now; null when there is none. */
	findById(userId: string): Promise<Pick<UserRecord, 'id' | 'email'> | null>;
	/**
	 * Gives the user the address `email` (already lower case), marked verified — the caller has
	 * proved it with a code — and `updatedAt` = `now`. `taken` when another user has it (the
	 * unique constraint decides, so two changes to one address at once cannot both win), and
	 * `no-user` when the user is gone; nothing is written then.
	 */
	changeEmail(userId: string, email: string, now: Date): Promise<EmailChange>;
}

export type EmailChange = 'changed' | 'taken' | 'no-user';

/** A security-log row as stored: `detail` is JSON text. */
export interface SecurityEventRow {
	id: string;
	userId: string;
	sessionId: string | null;
	type: string;
	createdAt: Date;
	ipAddress: string | null;
	userAgent: string | null;
	detail: string;
}

export interface SecurityEventRows {
	record(event: SecurityEventRow): Promise<void>;
	/** A page of the user's events, newest first, and how many they have in all. */
	page(userId: string, limit: number, offset: number): Promise<{ rows: SecurityEventRow[]; total: number }>;
}

export interface RateLimitWindows {
	/**
	 * Counts one attempt against `key` in one atomic step: a window that ended by `now` starts
	 * over with this attempt, lasting `windowMs`. Returns the count so far and when it resets.
	 */
	hit(key: string, windowMs: number, now: number): Promise<{ count: number; resetsAt: number }>;
}

/**
 * A one-time code (sign-in, re-authentication) as stored in Better Auth's verification table:
 * who may spend it, and a value that holds no code, only its digest (auth/codes.ts).
 */
export interface CodeRecord {
	id: string;
	/** Who may spend it, as `<purpose>:<key>`: a browser's pending sign-in, or a signed-in session. */
	holder: string;
	/** Opaque to the storage: written whole, and changed only by compare-and-set. */
	value: string;
	/** When the purge may delete it. */
	expiresAt: Date;
}

export interface CodeRows {
	/** Stores the holder's new code and deletes every earlier one of theirs, in one transaction. */
	replace(code: CodeRecord, now: Date): Promise<void>;
	/** The holder's code (the newest, should two have been stored at once), expired or not; null when none. */
	find(holder: string): Promise<Pick<CodeRecord, 'id' | 'value'> | null>;
	/** Sets the value when it still is `seen`: false when another request changed or spent the code first. */
	update(id: string, seen: string, value: string, now: Date): Promise<boolean>;
	/** Deletes the code when its value still is `seen`: true for the one request that spends it. */
	spend(id: string, seen: string): Promise<boolean>;
}

/**
 * Why sessions ended, for the browsers that held them (auth/session-endings.ts): one row per
 * ended token, keyed by a keyed hash of it — the storage never sees a token here.
 */
export interface SessionEndingRows {
	/**
	 * Stores `reason` for each hash, kept until `expiresAt`. A hash that already has a reason keeps
	 * it: the first ending of a session is the one that ended it (an idle session later swept up by
	 * "sign out everywhere" stays idle).
	 */
	record(tokenHashes: string[], reason: string, endedAt: Date, expiresAt: Date): Promise<void>;
	/** The reason stored for this hash, unless it expired by `now`; null when none. */
	find(tokenHash: string, now: Date): Promise<{ reason: string; endedAt: Date } | null>;
}

export interface PurgeRows {
	/** Deletes at most `limit` sessions whose expiresAt is before `now`; returns how many. */
	expiredSessions(now: number, limit: number): Promise<number>;
	/** Deletes expired sign-in codes, finished rate-limit windows and expired ending reasons; returns how many rows. */
	expiredOther(now: number): Promise<number>;
	/** Takes the lease `name` for `holder` when it is free, expired or already theirs; true when taken. */
	acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
	releaseLease(name: string, holder: string): Promise<void>;
}

/**
 * Switches for the storage's performance mechanisms, all on by default; tests turn them off to
 * compare. Response scheduling is not the storage's: it is a handle of its own
 * (http/end-of-turn.ts), switched off by leaving it out of the hooks' sequence.
 */
export interface PerformanceOptions {
	/** Token lookups of one event-loop turn answered together (batch-loader.ts). */
	batchLoader?: boolean;
}

export interface StorageOptions {
	/** Connections per instance, for an engine with a pool. */
	poolMax?: number;
	/**
	 * Milliseconds after which the server cancels a statement, for an engine that can; the
	 * driver gives up on a silent server a margin later (timeouts.ts). On SQLite it shortens
	 * the lock wait below to at most this.
	 */
	statementTimeoutMs?: number;
	/** How long a SQLite write waits, off the event loop, for another connection's lock before failing as a fault. */
	lockWaitMs?: number;
	performance?: PerformanceOptions;
}

/**
 * What an engine's folder (`db/<engine>/index.ts`) gives the registry (engines.ts, which imports every engine's folder, so this contract lives here): how to
 * recognise its DATABASE_URL, open it, build the storage port on it and name its faults.
 */
export interface Engine<
	Target extends { dialect: string },
	Handle extends { dialect: string; close(): Promise<void> }
> {
	name: Target['dialect'];
	/** Its DATABASE_URL form, as an error message offers it: "<example> for <engine>". */
	urlForm: string;
	/** The target a DATABASE_URL value names, null when it is not this engine's; throws RefusedUrl for a malformed one. */
	parseUrl(value: string): Target | null;
	/** The target when DATABASE_URL is not set, for the default engine. */
	defaultTarget?: () => Target;
	/** The engine and where its data lives, without credentials, for log lines. */
	describe(target: Target): string;
	/** A connection (or pool) to the target, with its Drizzle database. */
	open(target: Target, options: StorageOptions): Handle;
	/** The storage port on an open connection; closing the storage closes the connection. */
	storage(handle: Handle, options: StorageOptions): Omit<Storage, 'classifyFault'>;
	/**
	 * The fault this one error (not its causes: the caller walks those) says the database has,
	 * from the driver's code (undefined when it has none) or its message; null when none.
	 */
	faultOf(code: string | undefined, message: string): string | null;
}

/** A DATABASE_URL in an engine's form that cannot be used; the message says why (e.g. "names no file"). */
export class RefusedUrl extends Error {}
