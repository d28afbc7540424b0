import { fileURLToPath } from 'node:url';
import { RefusedUrl, type Engine } from '../port';
import { openSqlite, type SqliteDatabase, type SqliteTarget } from './connection';
import { sqliteFaultOf } from './faults';
import { sqliteStorage } from './storage';

export type { SqliteDatabase, SqliteTarget } from './connection';

export const DEFAULT_SQLITE_FILE = './data/latchkey.db';

/** A file: `file:./x.db`, `file:///abs/x.db`, or any path ending in .db. The default engine. */
export const sqlite: Engine<SqliteTarget, SqliteDatabase> = {
	name: 'sqlite',
	urlForm: 'file:./data/latchkey.db (or any path ending in .db) for SQLite',
	parseUrl(value) {
		if (value.startsWith('file://')) return fileTarget(pathOfFileUrl(value));
		if (value.startsWith('file:')) return fileTarget(value.slice('file:'.length));
		if (value.endsWith('.db') && !value.includes('://')) return fileTarget(value);
		return null;
	},
	defaultTarget: () => ({ dialect: 'sqlite', file: DEFAULT_SQLITE_FILE }),
	describe: ({ file }) => `SQLite at ${file}`,
	open: (target) => openSqlite(target),
	storage: sqliteStorage,
	faultOf: sqliteFaultOf
};

function pathOfFileUrl(value: string): string {
	try {
		return fileURLToPath(value);
	} catch {
		throw new RefusedUrl('is not a local file URL');
	}
}

function fileTarget(file: string): SqliteTarget {
	if (!file) throw new RefusedUrl('names no file');
	return { dialect: 'sqlite', file };
}
