import { fileURLToPath } from 'node:url';

export type DatabaseTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

export const DEFAULT_SQLITE_FILE = './data/latchkey.db';

const ACCEPTED_FORMS =
	'use file:./data/latchkey.db (or any path ending in .db) for SQLite, or postgres://user:password@host:5432/database for PostgreSQL';

/** Picks the dialect from DATABASE_URL: SQLite by default, PostgreSQL for postgres:// URLs. */
export function parseDatabaseUrl(raw: string | undefined): DatabaseTarget {
	const value = raw?.trim();
	if (!value) return { dialect: 'sqlite', file: DEFAULT_SQLITE_FILE };
	if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value };
	if (value.startsWith('file://')) return sqliteFile(pathOfFileUrl(value), raw!);
	if (value.startsWith('file:')) return sqliteFile(value.slice('file:'.length), raw!);
	if (value.endsWith('.db') && !value.includes('://')) return sqliteFile(value, raw!);
	throw new Error(`DATABASE_URL "${redactCredentials(value)}" is not supported; ${ACCEPTED_FORMS}`);
}

function pathOfFileUrl(value: string): string {
	try {
		return fileURLToPath(value);
	} catch {
		throw new Error(`DATABASE_URL "${redactCredentials(value)}" is not a local file URL; ${ACCEPTED_FORMS}`);
	}
}

function sqliteFile(path: string, raw: string): DatabaseTarget {
	if (!path) throw new Error(`DATABASE_URL "${raw}" names no file; ${ACCEPTED_FORMS}`);
	return { dialect: 'sqlite', file: path };
}

/** Error messages end up in logs: never echo a password from a connection URL. */
export function redactCredentials(url: string): string {
	// Greedy up to the last `@` before the path: a password may itself contain `@`.
	return url.replace(/\/\/[^/]*@/, '//***@').replace(/([?&](?:password|pass|pwd)=)[^&]*/gi, '$1***');
}
