import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as sqliteSchema from './sqlite/schema';
import * as pgSchema from './postgres/schema';
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
export const MIGRATIONS_DIR = { sqlite: 'drizzle/sqlite', postgres: 'drizzle/postgres' } as const;

export interface PoolOptions {
	max: number;
	statementTimeoutMs: number;
}

const DEFAULT_POOL: PoolOptions = { max: 10, statementTimeoutMs: 30_000 };

export function openDatabase(target: DatabaseTarget, pool: PoolOptions = DEFAULT_POOL): Database {
	return target.dialect === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, pool);
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

function openPostgres(url: string, { max, statementTimeoutMs }: PoolOptions): PostgresDatabase {
	const client = new pg.Pool({
		connectionString: url,
		max,
		// A statement or a connection attempt never hangs a request for ever: it fails, and
		// the request answers 503 (hooks.server.ts).
		statement_timeout: statementTimeoutMs,
		connectionTimeoutMillis: 5000
	});
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

/**
 * The first row of an `INSERT … RETURNING` on SQLite. better-sqlite3's `get()` stops after the
 * first row and drops the failure of the commit that follows (a read-only file, a full disk):
 * the row comes back although nothing was written. `all()` runs the statement to its end, so
 * that failure is thrown like any other.
 */
export function returnedRow<P extends unknown[], R>(statement: Sqlite.Statement<P, R>, ...values: P): R | undefined {
	return statement.all(...values)[0];
}

/** SQL written with `?` placeholders (SQLite's) turned into PostgreSQL's `$1, $2, …`. */
export function numberedPlaceholders(sql: string): string {
	let n = 0;
	return sql.replace(/\?/g, () => `$${++n}`);
}

/** Any fixed number: every Latchkey instance asks for the same PostgreSQL advisory lock. */
const MIGRATION_LOCK = 7_361_425;

/**
 * Brings the schema up to date. On PostgreSQL several instances may start at once: the first
 * takes an advisory lock and migrates, the others wait for it, then find nothing left to do.
 */
export async function migrateDatabase(database: Database, root = process.cwd()): Promise<void> {
	const migrationsFolder = resolve(root, MIGRATIONS_DIR[database.dialect]);
	if (database.dialect === 'sqlite') {
		migrateSqlite(database.db, { migrationsFolder });
		return;
	}
	const lock = await database.client.connect();
	try {
		await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
		await migratePg(database.db, { migrationsFolder });
	} finally {
		await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
		lock.release();
	}
}

/** A cheap round trip, for /healthz. */
export async function pingDatabase(database: Database): Promise<void> {
	if (database.dialect === 'sqlite') database.client.prepare('SELECT 1').get();
	else await database.client.query('SELECT 1');
}

let current: Database | undefined;

/** This process's database, opened on first use: `vite build` imports this module and must not open it. */
export function getDatabase(): Database {
	const { database, pool } = getConfig();
	return (current ??= openDatabase(database, pool));
}
