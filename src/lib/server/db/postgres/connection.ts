import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { StorageOptions } from '../port';
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
	{ poolMax = 10, statementTimeoutMs = 30_000 }: StorageOptions = {}
): PostgresDatabase {
	const client = new pg.Pool({
		connectionString: url,
		max: poolMax,
		// A statement or a connection attempt never hangs a request for ever: it fails, and
		// the request answers 503 (hooks.server.ts).
		statement_timeout: statementTimeoutMs,
		connectionTimeoutMillis: 5000
	});
	// An idle client losing its connection must not crash the process; the pool replaces it.
	client.on('error', (error) => console.error(`latchkey: idle PostgreSQL connection failed: ${error.message}`));
	return {
		dialect: 'postgres',
		db: drizzle(client, { schema }),
		schema,
		client,
		close: () => client.end()
	};
}
