import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { StorageOptions } from '../port';
import { clientTimeoutMs, DEFAULT_STATEMENT_TIMEOUT_MS, poolWaitMs } from '../timeouts';
import * as schema from './schema';

export type PostgresTarget = { dialect: 'postgres'; url: string };

/** A connection pool to the server, and the Drizzle database Better Auth writes through. */
export type PostgresDatabase = {
	dialect: 'postgres';
	db: NodePgDatabase<typeof schema>;
	schema: typeof schema;
	client: pg.Pool;
	close(): Promise<void>;
};

export function openPostgres(
	{ url }: PostgresTarget,
	{ poolMax = 10, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS }: StorageOptions = {}
): PostgresDatabase {
	const client = new pg.Pool({
		connectionString: url,
		max: poolMax,
		// No statement hangs a request for ever: it fails, and the request answers 503
		// (hooks.server.ts). The server cancels a statement past the statement timeout; a server
		// that answers nothing at all (a dead host, a stalled network) is given up on a margin
		// later by the driver (timeouts.ts).
		statement_timeout: statementTimeoutMs,
		query_timeout: clientTimeoutMs(statementTimeoutMs),
		// pg-pool applies this both to a new connection and to the wait for a free pooled one:
		// with every connection stuck on a silent server, a waiting request fails just as soon.
		connectionTimeoutMillis: poolWaitMs(statementTimeoutMs)
	});
	// An idle client losing its connection must not crash the process; the pool replaces it.
	client.on('error', (error) => console.error(`latchkey: idle PostgreSQL connection failed: ${error.message}`));
	// Nor may a client lent out (a transaction) that loses its connection between two of its
	// statements: the statements fail as faults, and the pool drops it when it comes back.
	client.on('connect', (connection) => connection.on('error', () => undefined));
	return {
		dialect: 'postgres',
		db: drizzle(client, { schema }),
		schema,
		client,
		close: () => client.end()
	};
}
