import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// Same tables and columns as ../postgres/schema.ts; Better Auth's core models plus what Latchkey adds.
const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const user = sqliteTable('user', {
	id: text('id').primaryKey(),
	name: text('name').notNull(),
	email: text('email').notNull().unique(),
	emailVerified: integer('email_verified', { mode: 'boolean' }).notNull().default(false),
	image: text('image'),
	createdAt: timestamp('created_at').notNull(),
	updatedAt: timestamp('updated_at').notNull()
});

export const session = sqliteTable(
	'session',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
			.notNull()
			.references(() => user.id, { onDelete: 'cascade' }),
		token: text('token').notNull().unique(),
		expiresAt: timestamp('expires_at').notNull(),
		createdAt: timestamp('created_at').notNull(),
		updatedAt: timestamp('updated_at').notNull(),
		ipAddress: text('ip_address'),
		userAgent: text('user_agent'),
		// The policy this session was created with (auth/policy.ts); refreshes follow it, not the app's current preset.
		policy: text('policy').notNull(),
		idleSeconds: integer('idle_seconds').notNull(),
		refreshSeconds: integer('refresh_seconds').notNull(),
		absoluteExpiresAt: timestamp('absolute_expires_at'),
		/** Networks (ip-network.ts) this session was seen from and reported, besides its sign-in address. */
		knownNetworks: text('known_networks').notNull().default(''),
		/** false: a browser-session cookie (remember-me declined). */
		persistent: integer('persistent', { mode: 'boolean' }).notNull(),
		/**
		 * The public key a DBSC browser proved it holds for this session (auth/device-binding.ts), as
		 * JSON `{ alg, jwk }`; null for a session that is not bound to its device.
		 */
		deviceKey: text('device_key'),
		deviceBoundAt: timestamp('device_bound_at')
	},
	(table) => [index('session_user_id_idx').on(table.userId), index('session_expires_at_idx').on(table.expiresAt)]
);

export const account = sqliteTable(
	'account',
	{
		id: text('id').primaryKey(),
		userId: text('user_id')
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

export const verification = sqliteTable(
	'verification',
	{
		id: text('id').primaryKey(),
		identifier: text('identifier').notNull(),
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
export const securityEvent = sqliteTable(
	'security_event',
	{
		id: text('id').primaryKey(),
		userId: text('user_id').notNull(),
		sessionId: text('session_id'),
		type: text('type').notNull(),
		createdAt: timestamp('created_at').notNull(),
		ipAddress: text('ip_address'),
		userAgent: text('user_agent'),
		detail: text('detail').notNull().default('{}')
	},
	(table) => [index('security_event_user_created_idx').on(table.userId, table.createdAt)]
);

/** Better Auth's own rate-limit counters for /api/auth/* when no Redis is configured. */
export const rateLimit = sqliteTable('rate_limit', {
	id: text('id').primaryKey(),
	key: text('key').notNull().unique(),
	count: integer('count').notNull(),
	lastRequest: integer('last_request').notNull()
});

/** Latchkey's sign-in limits (rate-limit.ts) shared by every instance when no Redis is configured. */
export const rateLimitWindow = sqliteTable('rate_limit_window', {
	key: text('key').primaryKey(),
	count: integer('count').notNull(),
	/** Epoch milliseconds at which the window starts over. */
	resetsAt: integer('resets_at').notNull()
});

/** Leases that let one instance at a time run a periodic job (purge.ts). */
export const jobLease = sqliteTable('job_lease', {
	name: text('name').primaryKey(),
	holder: text('holder').notNull(),
	/** Epoch milliseconds after which another instance may take the lease. */
	expiresAt: integer('expires_at').notNull()
});

/**
 * Why a session ended, for the browser that held it (auth/session-endings.ts): keyed by a keyed
 * hash of the ended token, never the token, and with no user id. Kept until `expires_at`, then
 * purged with the rest (purge.ts).
 */
export const sessionEnding = sqliteTable(
	'session_ending',
	{
		tokenHash: text('token_hash').primaryKey(),
		/** The ending's reason as the session log names it (`idle`, `revoked`, …). */
		reason: text('reason').notNull(),
		endedAt: timestamp('ended_at').notNull(),
		expiresAt: timestamp('expires_at').notNull()
	},
	(table) => [index('session_ending_expires_at_idx').on(table.expiresAt)]
);
