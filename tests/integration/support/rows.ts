import type { Database } from '../../../src/lib/server/db';

/** Every session row, read through Drizzle (not through the code under test). */
export async function sessionRows(database: Database) {
	return database.dialect === 'sqlite'
		? database.db.select().from(database.schema.session).all()
		: database.db.select().from(database.schema.session);
}

export async function tableNames(database: Database): Promise<string[]> {
	if (database.dialect === 'sqlite') {
		const rows = database.client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
			name: string;
		}[];
		return rows.map((row) => row.name);
	}
	const result = await database.client.query<{ table_name: string }>(
		"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	);
	return result.rows.map((row) => row.table_name);
}

/** Sets columns of one session row directly, to put it in a state time alone would reach. */
export async function updateSessionRow(
	database: Database,
	id: string,
	values: Partial<{ expiresAt: Date; updatedAt: Date; absoluteExpiresAt: Date | null }>
): Promise<void> {
	const { eq } = await import('drizzle-orm');
	if (database.dialect === 'sqlite') {
		database.db.update(database.schema.session).set(values).where(eq(database.schema.session.id, id)).run();
	} else {
		await database.db.update(database.schema.session).set(values).where(eq(database.schema.session.id, id));
	}
}
