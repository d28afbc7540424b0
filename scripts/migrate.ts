/** `npm run db:migrate`: brings the database named by DATABASE_URL up to the current schema. */
import { describeTarget, openStorage, parseDatabaseUrl, redactCredentials } from '../src/lib/server/db';

async function main(): Promise<number> {
	let target;
	try {
		target = parseDatabaseUrl(process.env.DATABASE_URL);
	} catch (error) {
		console.error(`db:migrate: ${(error as Error).message}`);
		return 1;
	}
	const storage = openStorage(target);
	try {
		await storage.migrate();
		console.info(`db:migrate: ${describeTarget(target)} is up to date`);
		return 0;
	} catch (error) {
		console.error(`db:migrate: migration failed: ${redactCredentials((error as Error).message)}`);
		return 1;
	} finally {
		await storage.close();
	}
}

process.exitCode = await main();
