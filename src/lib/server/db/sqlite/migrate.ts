import { readMigrationFiles } from 'drizzle-orm/migrator';
import { whileLocked } from './busy';
import type { SqliteDatabase } from './connection';

/** Long enough for another instance to finish migrating; the wait frees the event loop. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/**
 * Drizzle's migrator (same table, same bookkeeping), inside one BEGIN IMMEDIATE: the
 * transaction takes the write lock before it reads which migrations ran, so instances starting
 * together migrate one at a time and the later ones find nothing left to do.
 */
export async function migrateSqlite({ client }: SqliteDatabase, migrationsFolder: string): Promise<void> {
	const migrations = readMigrationFiles({ migrationsFolder });
	await whileLocked(
		() => {
			client.exec('BEGIN IMMEDIATE');
			try {
				client.exec(
					'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)'
				);
				const last = client
					.prepare<[], [number]>('SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1')
					.raw(true)
					.get();
				const record = client.prepare('INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)');
				for (const migration of migrations) {
					if (last && Number(last[0]) >= migration.folderMillis) continue;
					for (const statement of migration.sql) client.exec(statement);
					record.run(migration.hash, migration.folderMillis);
				}
				client.exec('COMMIT');
			} catch (error) {
				if (client.inTransaction) client.exec('ROLLBACK');
				throw error;
			}
		},
		MIGRATION_LOCK_WAIT_MS,
		client
	);
}
