import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema';

export type SqliteTarget = { dialect: 'sqlite'; file: string };

/** One connection to the database file, and the Drizzle database Better Auth writes through. */
export type SqliteDatabase = {
	dialect: 'sqlite';
	db: BetterSQLite3Database<typeof schema>;
	schema: typeof schema;
	client: Sqlite.Database;
	close(): Promise<void>;
};

/**
 * How long one statement blocks the event loop waiting for another connection's write lock.
 * Short: the port's writes wait longer off the event loop (busy.ts), and a CLI run holding
 * the lock must not freeze every request.
 */
export const BUSY_TIMEOUT_MS = 20;

export function openSqlite({ file }: SqliteTarget): SqliteDatabase {
	mkdirSync(dirname(resolve(file)), { recursive: true });
	const client = new Sqlite(file);
	// WAL lets readers proceed during a write.
	client.pragma('journal_mode = WAL');
	client.pragma('foreign_keys = ON');
	client.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
	return {
		dialect: 'sqlite',
		db: drizzle(client, { schema }),
		schema,
		client,
		close: async () => void client.close()
	};
}
