import { ConfigError, getConfig } from './config';
import { getDatabase, migrateDatabase } from './db';
import { redactCredentials } from './db/target';

/**
 * Runs once before the first request: validates the environment and brings the schema up
 * to date. A problem stops the process with a plain message instead of a stack trace.
 */
export async function prepareServer(): Promise<void> {
	try {
		const config = getConfig();
		if (config.autoMigrate) await migrateDatabase(getDatabase());
		console.info(`latchkey: ready on ${config.origin} with ${describeDatabase()}`);
	} catch (error) {
		console.error(error instanceof ConfigError ? error.message : `Latchkey cannot start: ${describeFailure(error)}`);
		process.exit(1);
	}
}

function describeDatabase(): string {
	const { database } = getConfig();
	return database.dialect === 'sqlite'
		? `SQLite at ${database.file}`
		: `PostgreSQL at ${redactCredentials(database.url)}`;
}

function describeFailure(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return `the database could not be prepared (${redactCredentials(message)})`;
}
