import { resolve } from 'node:path';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { isMariaDb, type MysqlDatabase } from './connection';

export const MIGRATIONS_DIR = 'drizzle/mysql';

/** How long an instance waits for another one's migration before it gives up and fails to start. */
export const MIGRATION_LOCK_WAIT_SECONDS = 120;

/**
 * A named lock of the server (GET_LOCK), one per database: instances of one deployment share
 * it, other databases on the same server do not wait for it. Names are at most 64 characters.
 */
const LOCK_NAME = "LEFT(CONCAT('latchkey_migrate:', DATABASE()), 64)";

/**
 * Brings the schema up to date from the migrations under `root` (the working directory by
 * default). Several instances may start at once: the first takes the lock and migrates, the
 * others wait for it, then find nothing left to do. The lock belongs to one connection, held
 * aside while Drizzle migrates on the others; it goes with that connection if the process dies.
 */
export async function migrateMysql(
	database: MysqlDatabase,
	root = process.cwd(),
	waitSeconds = MIGRATION_LOCK_WAIT_SECONDS
): Promise<void> {
	const connection = await database.client.getConnection();
	try {
		// GET_LOCK is a SELECT: the wait must not be cut short by the statement timeout.
		await connection.query(await withoutStatementTimeout(connection));
		const [rows] = await connection.query<RowDataPacket[]>(`SELECT GET_LOCK(${LOCK_NAME}, ?) AS taken`, [waitSeconds]);
		if (rows[0]?.taken !== 1)
			throw new Error(`another instance has been migrating the database for over ${waitSeconds} s`);
		try {
			await migrate(database.db, { migrationsFolder: resolve(root, MIGRATIONS_DIR) });
		} finally {
			await connection.query(`SELECT RELEASE_LOCK(${LOCK_NAME})`).catch(() => undefined);
		}
	} finally {
		// Its session settings were changed for the wait: it is not handed to a request.
		connection.destroy();
	}
}

async function withoutStatementTimeout(connection: PoolConnection): Promise<string> {
	const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
	return isMariaDb(String(rows[0]?.version ?? ''))
		? 'SET SESSION max_statement_time = 0'
		: 'SET SESSION max_execution_time = 0';
}
