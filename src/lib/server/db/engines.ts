import { mysql, type MysqlDatabase, type MysqlTarget } from './mysql';
import { postgres, type PostgresDatabase, type PostgresTarget } from './postgres';
import { sqlite, type SqliteDatabase, type SqliteTarget } from './sqlite';

/**
 * The engines Latchkey runs on, by name; the first is the default (DATABASE_URL unset). A new
 * engine is a folder beside these (schema, connection, storage, faults, index.ts exporting its
 * Engine), one entry here and in the two unions below, and its migrations in drizzle/<name>/.
 */
export const ENGINES = { sqlite, postgres, mysql } as const;

/** Where the database is: what DATABASE_URL names, by engine. */
export type DatabaseTarget = SqliteTarget | PostgresTarget | MysqlTarget;

/** An open connection (or pool) of one engine, with its Drizzle database: for tools and tests that read rows themselves. */
export type Database = SqliteDatabase | PostgresDatabase | MysqlDatabase;

export type Dialect = DatabaseTarget['dialect'];
