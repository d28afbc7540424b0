import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as sqliteSchema from './schema.sqlite';
import * as pgSchema from './schema.pg';
import { getConfig } from '../config';
import type { DatabaseTarget } from './target';

export type SqliteDatabase = {
	dialect: 'sqlite';
	db: BetterSQLite3Database<typeof sqliteSchema>;
	schema: typeof sqliteSchema;
	client: Sqlite.Database;
	close(): Promise<void>;
};

export type PostgresDatabase = {
	dialect: 'postgres';
	db: NodePgDatabase<typeof pgSchema>;
	schema: typeof pgSchema;
	client: pg.Pool;
	close(): Promise<void>;
};

export type Database = SqliteDatabase | PostgresDatabase;

/** Migrations are shipped as SQL beside the code, one folder per dialect. */
export const MIGRATIONS_DIR = { sqlite: 'drizzle/sqlite', postgres: 'drizzle/pg' } as const;

export function openDatabase(target: DatabaseTarget): Database {
	return target.dialect === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url);
}

function openSqlite(file: string): SqliteDatabase {
	mkdirSync(dirname(resolve(file)), { recursive: true });
	const client = new Sqlite(file);
	// WAL lets readers proceed during a write; the busy timeout rides out short write locks.
	client.pragma('journal_mode = WAL');
	client.pragma('foreign_keys = ON');
	client.pragma('busy_timeout = 5000');
	return {
		dialect: 'sqlite',
		db: drizzleSqlite(client, { schema: sqliteSchema }),
		schema: sqliteSchema,
		client,
		close: async () => void client.close()
	};
}

function openPostgres(url: string): PostgresDatabase {
	const client = new pg.Pool({ connectionString: url });
	// An idle client losing its connection must not crash the process; the pool replaces it.
	client.on('error', (error) => console.error(`latchkey: idle PostgreSQL connection failed: ${error.message}`));
	return {
		dialect: 'postgres',
		db: drizzlePg(client, { schema: pgSchema }),
		schema: pgSchema,
		client,
		close: () => client.end()
	};
}

export async function migrateDatabase(database: Database, root = process.cwd()): Promise<void> {
	const migrationsFolder = resolve(root, MIGRATIONS_DIR[database.dialect]);
	if (database.dialect === 'sqlite') migrateSqlite(database.db, { migrationsFolder });
	else await migratePg(database.db, { migrationsFolder });
}

let current: Database | undefined;

/** This process's database, opened on first use: `vite build` imports this module and must not open it. */
export function getDatabase(): Database {
	return (current ??= openDatabase(getConfig().database));
}
