import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseTarget } from '../../../src/lib/server/db/target';

/** The PostgreSQL server the tests may create databases on (never one they use for anything else). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The MySQL or MariaDB server the tests may create databases on (root with an empty password by default). */
export const MYSQL_ADMIN_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface ScratchDatabase {
	target: DatabaseTarget;
	/** Removes the database and everything in it. */
	drop(): Promise<void>;
}

export type Dialect = DatabaseTarget['dialect'];
export const DIALECTS: Dialect[] = ['sqlite', 'postgres', 'mysql'];

const SCRATCH: Record<Dialect, () => Promise<ScratchDatabase>> = {
	sqlite: createScratchSqlite,
	postgres: createScratchPostgres,
	mysql: createScratchMysql
};

export function createScratchDatabase(dialect: Dialect): Promise<ScratchDatabase> {
	return SCRATCH[dialect]();
}

const scratchName = () => `latchkey_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;

async function createScratchSqlite(): Promise<ScratchDatabase> {
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
	return {
		target: { dialect: 'sqlite', file: join(dir, 'nested', 'latchkey.db') },
		drop: async () => rmSync(dir, { recursive: true, force: true })
	};
}

async function createScratchPostgres(): Promise<ScratchDatabase> {
	const name = scratchName();
	await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
	const url = new URL(POSTGRES_ADMIN_URL);
	url.pathname = `/${name}`;
	return {
		target: { dialect: 'postgres', url: url.toString() },
		drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined)
	};
}

async function withAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
	const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
	await admin.connect();
	try {
		return await work(admin);
	} finally {
		await admin.end();
	}
}

/** A database of its own on the MySQL or MariaDB server, in the server's default character set (the first migration sets it). */
async function createScratchMysql(): Promise<ScratchDatabase> {
	const name = scratchName();
	await withMysqlAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
	const url = new URL(MYSQL_ADMIN_URL);
	url.pathname = `/${name}`;
	return {
		target: { dialect: 'mysql', url: url.toString() },
		drop: () => withMysqlAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name}`)).then(() => undefined)
	};
}

async function withMysqlAdmin<T>(work: (admin: mysql.Connection) => Promise<T>): Promise<T> {
	const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL.replace(/^mariadb:/i, 'mysql:') });
	try {
		return await work(admin);
	} finally {
		await admin.end();
	}
}
