import { bigint, boolean, datetime, index, int, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core';

/**
 * The same tables and columns as the other engines' schemas; Better Auth's core models plus
 * what Latchkey adds. What MySQL asks for beyond them:
 *
 * - Every table is utf8mb4 with the utf8mb4_bin collation, the database's default from the
 *   first migration on (drizzle-kit writes no table options): text takes 4-byte UTF-8, and ids,
 *   tokens and emails compare byte for byte as on the other engines, never case-insensitively.
 *   (utf8mb4_bin pads: a trailing space compares equal; no generated id or token carries one.)
 * - A column in a key or an index is a bounded varchar (InnoDB keys hold at most 3072 bytes,
 *   768 characters of utf8mb4); so is a column with a default, which MySQL 8 refuses on TEXT.
 * - Times are DATETIME(3): milliseconds kept, no time zone, written and read as UTC by Drizzle
 *   and by connection.ts.
 */
const timestamp = (name: string) => datetime(name, { mode: 'date', fsp: 3 });
/** Generated ids (Better Auth's are 32 characters, the security log's UUIDs 36) and the columns that point at them. */
const id = (name: string) => varchar(name, { length: 64 });
/** Longer keys: addresses, Better Auth's verification identifiers (a prefix and an email), limit keys. */
const longKey = (name: string) => varchar(name, { length: 512 });

export const user = mysqlTable('user', {
	id: id('id').primaryKey(),
	name: text('name').notNull(),
	email: varchar('email', { length: 320 }).notNull().unique(),
	emailVerified: boolean('email_verified').notNull().default(false),
	image: text('image'),
	createdAt: timestamp('created_at').notNull(),
	updatedAt: timestamp('updated_at').notNull()
});

export const session = mysqlTable(
	'session',
	{
		id: id('id').primaryKey(),
		userId: id('user_id')
			.notNull()
			.references(() => user.id, { onDelete: 'cascade' }),
		token: id('token').notNull().unique(),
		expiresAt: timestamp('expires_at').notNull(),
		createdAt: timestamp('created_at').notNull(),
		updatedAt: timestamp('updated_at').notNull(),
		ipAddress: text('ip_address'),
		userAgent: text('user_agent'),
		// The policy this session was created with (auth/policy.ts); refreshes follow it, not the app's current preset.
		policy: text('policy').notNull(),
		idleSeconds: int('idle_seconds').notNull(),
		refreshSeconds: int('refresh_seconds').notNull(),
		absoluteExpiresAt: timestamp('absolute_expires_at'),
		/** Networks (ip-network.ts) this session was seen from and reported, besides its sign-in address; at most 32. */
		knownNetworks: varchar('known_networks', { length: 2048 }).notNull().default(''),
		/** false: a browser-session cookie (remember-me declined). */
		persistent: boolean('persistent').notNull(),
		/**
		 * The public key a DBSC browser proved it holds for this session (auth/device-binding.ts), as
		 * JSON `{ alg, jwk }`; null for a session that is not bound to its device.
		 */
		deviceKey: text('device_key'),
		deviceBoundAt: timestamp('device_bound_at')
	},
	(table) => [index('session_user_id_idx').on(table.userId), index('session_expires_at_idx').on(table.expiresAt)]
);

export const account = mysqlTable(
	'account',
	{
		id: id('id').primaryKey(),
		userId: id('user_id')
			.notNull()
			.references(() => user.id, { onDelete: 'cascade' }),
		accountId: text('account_id').notNull(),
		providerId: text('provider_id').notNull(),
		accessToken: text('access_token'),
		refreshToken: text('refresh_token'),
		idToken: text('id_token'),
		accessTokenExpiresAt: timestamp('access_token_expires_at'),
		refreshTokenExpiresAt: timestamp('refresh_token_expires_at'),
		scope: text('scope'),
		password: text('password'),
		createdAt: timestamp('created_at').notNull(),
		updatedAt: timestamp('updated_at').notNull()
	},
	(table) => [index('account_user_id_idx').on(table.userId)]
);

export const verification = mysqlTable(
	'verification',
	{
		id: id('id').primaryKey(),
		identifier: longKey('identifier').notNull(),
		value: text('value').notNull(),
		expiresAt: timestamp('expires_at').notNull(),
		createdAt: timestamp('created_at').notNull(),
		updatedAt: timestamp('updated_at').notNull()
	},
	(table) => [index('verification_identifier_idx').on(table.identifier)]
);

/**
 * Append-only audit log of what happened to a user's sessions (security-log.ts). No foreign
 * key: events outlive a deleted account on purpose, and they never hold an email or a token.
 */
export const securityEvent = mysqlTable(
	'security_event',
	{
		id: id('id').primaryKey(),
		userId: id('user_id').notNull(),
		sessionId: id('session_id'),
		type: text('type').notNull(),
		createdAt: timestamp('created_at').notNull(),
		ipAddress: text('ip_address'),
		userAgent: text('user_agent'),
		/** JSON, bounded to 2048 characters by security-log.ts. */
		detail: varchar('detail', { length: 2048 }).notNull().default('{}')
	},
	(table) => [index('security_event_user_created_idx').on(table.userId, table.createdAt)]
);

/** Better Auth's own rate-limit counters for /api/auth/* when no Redis is configured. */
export const rateLimit = mysqlTable('rate_limit', {
	id: id('id').primaryKey(),
	key: longKey('key').notNull().unique(),
	count: int('count').notNull(),
	lastRequest: bigint('last_request', { mode: 'number' }).notNull()
});

/** Latchkey's sign-in limits (rate-limit.ts) shared by every instance when no Redis is configured. */
export const rateLimitWindow = mysqlTable('rate_limit_window', {
	key: longKey('key').primaryKey(),
	count: int('count').notNull(),
	/** Epoch milliseconds at which the window starts over. */
	resetsAt: bigint('resets_at', { mode: 'number' }).notNull()
});

/** Leases that let one instance at a time run a periodic job (purge.ts). */
export const jobLease = mysqlTable('job_lease', {
	name: varchar('name', { length: 255 }).primaryKey(),
	holder: id('holder').notNull(),
	/** Epoch milliseconds after which another instance may take the lease. */
	expiresAt: bigint('expires_at', { mode: 'number' }).notNull()
});

/**
 * Why a session ended, for the browser that held it (auth/session-endings.ts): keyed by a keyed
 * hash of the ended token (64 hex characters), never the token, and with no user id. Kept until
 * `expires_at`, then purged with the rest (purge.ts).
 */
export const sessionEnding = mysqlTable(
	'session_ending',
	{
		tokenHash: id('token_hash').primaryKey(),
		/** The ending's reason as the session log names it (`idle`, `revoked`, …). */
		reason: text('reason').notNull(),
		endedAt: timestamp('ended_at').notNull(),
		expiresAt: timestamp('expires_at').notNull()
	},
	(table) => [index('session_ending_expires_at_idx').on(table.expiresAt)]
);
