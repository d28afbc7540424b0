import Sqlite from 'better-sqlite3';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import pg from 'pg';
import { parseDatabaseUrl } from '../../../src/lib/server/db/target';

/** Every session token in the database an instance ran on (its DATABASE_URL). */
export async function sessionTokensIn(databaseUrl: string | undefined): Promise<string[]> {
	const target = parseDatabaseUrl(databaseUrl);
	if (target.dialect === 'sqlite') {
		const db = new Sqlite(target.file, { readonly: true, fileMustExist: true });
		try {
			return db
				.prepare<[], { token: string }>('SELECT token FROM session')
				.all()
				.map((row) => row.token);
		} finally {
			db.close();
		}
	}
	if (target.dialect === 'mysql') {
		const connection = await mysql.createConnection({ uri: target.url.replace(/^mariadb:/i, 'mysql:') });
		try {
			const [rows] = await connection.query<RowDataPacket[]>('SELECT token FROM session');
			return rows.map((row) => String(row.token));
		} finally {
			await connection.end();
		}
	}
	const client = new pg.Client({ connectionString: target.url });
	await client.connect();
	try {
		return (await client.query<{ token: string }>('SELECT token FROM session')).rows.map((row) => row.token);
	} finally {
		await client.end();
	}
}
