import type { RowDataPacket } from 'mysql2/promise';
import { connectionOf, type Database, type Storage } from '../../../src/lib/server/db';

/** The connection behind a storage (or the connection itself): these helpers work below the port. */
function connection(database: Storage | Database): Database {
	return 'dialect' in database ? database : connectionOf(database);
}

/** SQL written with `?` placeholders (SQLite's) turned into PostgreSQL's `$1, $2, …`. */
export function numberedPlaceholders(sql: string): string {
	let n = 0;
	return sql.replace(/\?/g, () => `$${++n}`);
}

/** Every session row, read through Drizzle (not through the code under test). */
export async function sessionRows(storage: Storage | Database) {
	const database = connection(storage);
	if (database.dialect === 'sqlite') return database.db.select().from(database.schema.session).all();
	if (database.dialect === 'mysql') return database.db.select().from(database.schema.session);
	return database.db.select().from(database.schema.session);
}

export async function tableNames(storage: Storage | Database): Promise<string[]> {
	const database = connection(storage);
	if (database.dialect === 'sqlite') {
		const rows = database.client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
			name: string;
		}[];
		return rows.map((row) => row.name);
	}
	if (database.dialect === 'mysql') {
		const [rows] = await database.client.query<RowDataPacket[]>(
			'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()'
		);
		return rows.map((row) => String(row.name));
	}
	const result = await database.client.query<{ table_name: string }>(
		"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	);
	return result.rows.map((row) => row.table_name);
}

/** Sets columns of one session row directly, to put it in a state time alone would reach. */
export async function updateSessionRow(
	storage: Storage | Database,
	id: string,
	values: Partial<{ expiresAt: Date; updatedAt: Date; absoluteExpiresAt: Date | null }>
): Promise<void> {
	const { eq } = await import('drizzle-orm');
	const database = connection(storage);
	if (database.dialect === 'sqlite') {
		database.db.update(database.schema.session).set(values).where(eq(database.schema.session.id, id)).run();
	} else if (database.dialect === 'mysql') {
		await database.db.update(database.schema.session).set(values).where(eq(database.schema.session.id, id));
	} else {
		await database.db.update(database.schema.session).set(values).where(eq(database.schema.session.id, id));
	}
}

/**
 * Runs `work` while the database refuses to delete session rows (a trigger raises an error),
 * as a delete that fails on its own would: a lock, a timeout, a lost connection.
 */
export function withSessionDeletesRefused<T>(database: Storage | Database, work: () => Promise<T>): Promise<T> {
	return withWritesRefused(database, { name: 'keep_sessions', table: 'session', on: 'DELETE' }, work);
}

/** Runs `work` while the database refuses to store security events. */
export function withSecurityEventsRefused<T>(database: Storage | Database, work: () => Promise<T>): Promise<T> {
	return withWritesRefused(database, { name: 'refuse_events', table: 'security_event', on: 'INSERT' }, work);
}

/** Runs `work` while the database refuses to change a session's known networks. */
export function withNetworkWritesRefused<T>(database: Storage | Database, work: () => Promise<T>): Promise<T> {
	return withWritesRefused(database, { name: 'keep_networks', table: 'session', on: 'UPDATE OF known_networks' }, work);
}

/** Runs `work` while the database refuses to store why sessions ended. */
export function withEndingsRefused<T>(database: Storage | Database, work: () => Promise<T>): Promise<T> {
	return withWritesRefused(database, { name: 'refuse_endings', table: 'session_ending', on: 'INSERT' }, work);
}

interface RefusedWrite {
	name: string;
	table: string;
	on: string;
}

/** A trigger that raises an error before every such write, for as long as `work` runs. */
async function withWritesRefused<T>(
	storage: Storage | Database,
	{ name, table, on }: RefusedWrite,
	work: () => Promise<T>
): Promise<T> {
	const database = connection(storage);
	const [install, remove] =
		database.dialect === 'sqlite'
			? [
					[`CREATE TRIGGER ${name} BEFORE ${on} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} writes refused'); END`],
					[`DROP TRIGGER ${name}`]
				]
			: database.dialect === 'mysql'
				? [[mysqlRefusal(name, table, on)], [`DROP TRIGGER ${name}`]]
				: [
						[
							`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
						BEGIN RAISE EXCEPTION '${table} writes refused'; END $$`,
							`CREATE TRIGGER ${name} BEFORE ${on} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`
						],
						[`DROP TRIGGER ${name} ON ${table}`, `DROP FUNCTION ${name}()`]
					];
	const execute = async (statements: string[]) => {
		for (const statement of statements) {
			if (database.dialect === 'sqlite') database.client.exec(statement);
			else if (database.dialect === 'mysql') await database.client.query(statement);
			else await database.client.query(statement);
		}
	};
	await execute(install);
	try {
		return await work();
	} finally {
		await execute(remove);
	}
}

/**
 * MySQL's form of such a trigger: it has no `UPDATE OF column`, so an update trigger refuses
 * only the updates that change the column.
 */
function mysqlRefusal(name: string, table: string, on: string): string {
	const refuse = `SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${table} writes refused'`;
	const column = /^UPDATE OF (\w+)$/.exec(on)?.[1];
	if (!column) return `CREATE TRIGGER ${name} BEFORE ${on} ON ${table} FOR EACH ROW ${refuse}`;
	return `CREATE TRIGGER ${name} BEFORE UPDATE ON ${table} FOR EACH ROW
		IF NOT (NEW.${column} <=> OLD.${column}) THEN ${refuse}; END IF`;
}

/**
 * One statement with `?` placeholders on any dialect, outside the code under test. SQLite
 * stores timestamps as epoch milliseconds and booleans as 0/1; the servers take them as they are.
 */
export async function runStatement(storage: Storage | Database, sql: string, values: unknown[]): Promise<void> {
	await selectRows(storage, sql, values);
}

/** The rows one `?`-placeholder query returns on any dialect (none for a statement that returns none). */
export async function selectRows<T = Record<string, unknown>>(
	storage: Storage | Database,
	sql: string,
	values: unknown[]
): Promise<T[]> {
	const database = connection(storage);
	if (database.dialect === 'sqlite') {
		const bound = values.map((value) =>
			value instanceof Date ? value.getTime() : typeof value === 'boolean' ? Number(value) : value
		);
		const statement = database.client.prepare(sql);
		if (statement.reader) return statement.all(...bound) as T[];
		statement.run(...bound);
		return [];
	}
	if (database.dialect === 'mysql') {
		// Identifiers are written "quoted" as on the other engines; MySQL quotes them `so`.
		const [rows] = await database.client.query(sql.replace(/"(\w+)"/g, '`$1`'), values);
		return Array.isArray(rows) ? (rows as T[]) : [];
	}
	return (await database.client.query(numberedPlaceholders(sql), values)).rows as T[];
}
