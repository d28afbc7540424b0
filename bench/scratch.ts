import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../src/lib/server/db/target';

export type Dialect = DatabaseTarget['dialect'];

/** The server the bench creates its throw-away database on; the tests default to the same one. */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
	target: DatabaseTarget;
	/** Removes the database and everything in it; safe to call twice. */
	drop(): Promise<void>;
}

/** Scratch databases not dropped yet, so an interrupted run can still clean up after itself. */
const undropped = new Set<ScratchDatabase>();

export async function createScratchDatabase(dialect: Dialect): Promise<ScratchDatabase> {
	const created = dialect === 'sqlite' ? createScratchSqlite() : await createScratchPostgres();
	const scratch: ScratchDatabase = {
		target: created.target,
		drop: async () => {
			if (!undropped.delete(scratch)) return;
			await created.drop();
		}
	};
	undropped.add(scratch);
	return scratch;
}

export async function dropAllScratchDatabases(): Promise<void> {
	await Promise.allSettled([...undropped].map((scratch) => scratch.drop()));
}

function createScratchSqlite(): ScratchDatabase {
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
	return {
		target: { dialect: 'sqlite', file: join(dir, 'latchkey.db') },
		drop: async () => rmSync(dir, { recursive: true, force: true })
	};
}

async function createScratchPostgres(): Promise<ScratchDatabase> {
	// Only lowercase letters, digits and _: the name goes into SQL unquoted.
	const name = `latchkey_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
	await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
	const url = new URL(POSTGRES_ADMIN_URL);
	url.pathname = `/${name}`;
	return {
		target: { dialect: 'postgres', url: url.toString() },
		// FORCE: a pool connection left open by a failed run must not keep the database alive.
		drop: async () => void (await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
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
