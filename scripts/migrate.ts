/** `npm run db:migrate`: brings the database named by DATABASE_URL up to the current schema. */
import { migrateDatabase, openDatabase } from '../src/lib/server/db';
import { parseDatabaseUrl, redactCredentials } from '../src/lib/server/db/target';

async function main(): Promise<number> {
	let target;
	try {
		target = parseDatabaseUrl(process.env.DATABASE_URL);
	} catch (error) {
		console.error(`db:migrate: ${(error as Error).message}`);
		return 1;
	}
	const database = openDatabase(target);
	try {
		await migrateDatabase(database);
		const where = target.dialect === 'sqlite' ? target.file : redactCredentials(target.url);
		console.info(`db:migrate: ${target.dialect} database at ${where} is up to date`);
		return 0;
	} catch (error) {
		console.error(`db:migrate: migration failed: ${redactCredentials((error as Error).message)}`);
		return 1;
	} finally {
		await database.close();
	}
}

process.exitCode = await main();
