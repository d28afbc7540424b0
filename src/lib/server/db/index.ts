import { getConfig } from '../config';
import type { Engine } from './port';
import { type Database, type DatabaseTarget } from './engines';
import { classifyFault } from './faults';
import type { Storage, StorageOptions } from './port';
import { engineOf, parseDatabaseUrl } from './target';

export type * from './port';
export type { Database, DatabaseTarget, Dialect } from './engines';
export { ENGINES } from './engines';
export { classifyFault } from './faults';
export { describeTarget, parseDatabaseUrl, redactCredentials } from './target';

type AnyEngine = Engine<DatabaseTarget, Database>;
const engineFor = (target: DatabaseTarget) => engineOf(target) as unknown as AnyEngine;
const engineOfHandle = (database: Database) => engineFor({ dialect: database.dialect } as DatabaseTarget);

/** The storage port on the database DATABASE_URL (or a parsed target) names, with its engine's adapter. */
export function openStorage(url: string | DatabaseTarget | undefined, options: StorageOptions = {}): Storage {
	const target = typeof url === 'object' ? url : parseDatabaseUrl(url);
	return storageOf(openDatabase(target, options), options);
}

const handles = new WeakMap<Storage, Database>();

/** The storage port on a connection already open; closing the storage closes it. */
export function storageOf(database: Database, options: StorageOptions = {}): Storage {
	const storage: Storage = { ...engineOfHandle(database).storage(database, options), classifyFault };
	handles.set(storage, database);
	return storage;
}

/** The connection behind a storage: for tests and tools that read or break rows themselves, never for the app. */
export function connectionOf(storage: Storage): Database {
	const database = handles.get(storage);
	if (!database) throw new Error('this storage was not opened by db/index.ts');
	return database;
}

/** A connection (or pool) of the target's engine, with its Drizzle database; see openStorage for the port. */
export function openDatabase(target: DatabaseTarget, options: StorageOptions = {}): Database {
	return engineFor(target).open(target, options);
}

/** Brings the schema of an open connection up to date (Storage.migrate). */
export async function migrateDatabase(database: Database, root = process.cwd()): Promise<void> {
	await engineOfHandle(database).storage(database, {}).migrate(root);
}

/** A cheap round trip, for /healthz. */
export function pingDatabase(storage: Storage): Promise<void> {
	return storage.ping();
}

let current: Storage | undefined;

/** This process's storage, opened on first use: `vite build` imports this module and must not open it. */
export function getStorage(): Storage {
	const { database, pool } = getConfig();
	return (current ??= openStorage(database, { poolMax: pool.max, statementTimeoutMs: pool.statementTimeoutMs }));
}
