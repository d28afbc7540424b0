/**
 * `npm run bench:lookup`: the session lookup alone, in process, for the two decisions it rests
 * on, each compared within one run, alternating A B, B A round after round (roundOrder):
 * - the per-turn batch loader on and off (PerformanceOptions.batchLoader), 20 callers in a loop
 *   as 20 connections would ask, on each engine (docs/decisions/0002-per-turn-batching.md);
 * - on PostgreSQL, the row read as one JSON text column against plain columns, with pg's type
 *   parsers or with times as epoch milliseconds, 7 tokens a query as a turn's batch under load
 *   (docs/decisions/0004-postgres-json-row.md).
 * It prints this process's CPU per lookup (not the database's) and lookups per second, median
 * [lowest–highest round]. Not part of `npm test`: timings depend on the machine.
 *
 *   npm run bench:lookup [-- sqlite,postgres,mysql] (ROUNDS=8 by default)
 */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { PRESETS } from '../src/lib/server/auth/policy';
import { migrateDatabase, openDatabase, storageOf, type Database } from '../src/lib/server/db';
import type { StoredSession } from '../src/lib/server/db/port';
import { readSessionRow, SESSIONS_BY_TOKENS } from '../src/lib/server/db/postgres/storage';
import { roundOrder } from './measure';
import { createScratchDatabase, type Dialect } from './scratch';
import { seedPopulation, seedSessions, seedUsers, uniquePrefix } from './seed';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USERS = 20_000;
const OTHER_SESSIONS = 80_000;
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const ROUND_MS = 2000;
const WARMUP_MS = 800;

interface Sample {
	cpuMicros: number;
	perSecond: number;
}

/** Runs `callers` loops of `lookup` for `ms`; each call returns how many sessions it found. */
async function sample(lookup: () => Promise<number>, callers: number, ms: number): Promise<Sample> {
	const cpu = process.cpuUsage();
	const started = performance.now();
	let found = 0;
	const caller = async () => {
		while (performance.now() - started < ms) {
			// Awaited first: `found += await …` would read found before the await and lose the other callers' counts.
			const count = await lookup();
			found += count;
		}
	};
	await Promise.all(Array.from({ length: callers }, caller));
	const used = process.cpuUsage(cpu);
	return { cpuMicros: (used.user + used.system) / found, perSecond: (found * 1000) / (performance.now() - started) };
}

const median = (values: number[]) => {
	const sorted = [...values].sort((a, b) => a - b);
	return (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
};
const spread = (values: number[], digits: number) =>
	`${median(values).toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;

/** Every contender, round after round in alternating order; then one line each, and each one's ratios to the first. */
async function compare(title: string, contenders: Array<[string, (ms: number) => Promise<Sample>]>): Promise<void> {
	for (const [, run] of contenders) await run(WARMUP_MS);
	const samples = contenders.map((): Sample[] => []);
	for (let round = 0; round < ROUNDS; round++) {
		for (const [index, [, run]] of roundOrder(contenders, round)) samples[index]!.push(await run(ROUND_MS));
	}
	console.log(title);
	for (const [index, [name]] of contenders.entries()) {
		const mine = samples[index]!;
		const first = samples[0]!;
		const cpuRatio = mine.map((s, round) => s.cpuMicros / first[round]!.cpuMicros);
		const rateRatio = mine.map((s, round) => s.perSecond / first[round]!.perSecond);
		console.log(
			`  ${name.padEnd(28)} CPU µs/lookup ${spread(
				mine.map((s) => s.cpuMicros),
				1
			)}, lookups/s ${spread(
				mine.map((s) => s.perSecond),
				0
			)}` + (index === 0 ? '' : `; ÷ first: CPU ${spread(cpuRatio, 2)}, lookups/s ${spread(rateRatio, 2)}`)
		);
	}
}

async function seeded(dialect: Dialect): Promise<{ database: Database; tokens: string[]; drop(): Promise<void> }> {
	const scratch = await createScratchDatabase(dialect);
	const database = openDatabase(scratch.target);
	await migrateDatabase(database, ROOT);
	const prefix = uniquePrefix();
	await seedUsers(database, prefix, USERS);
	const now = Date.now() - 60_000;
	const { tokenOf } = await seedSessions(database, {
		count: USERS,
		owners: { prefix, users: USERS },
		now,
		expiresAt: now + 24 * 3600_000,
		policy: PRESETS.standard,
		ipAddress: '127.0.0.1'
	});
	await seedPopulation(database, OTHER_SESSIONS);
	const tokens = Array.from({ length: USERS }, (_, index) => tokenOf(index));
	return { database, tokens, drop: async () => (await database.close(), await scratch.drop()) };
}

async function batchLoaderOnAndOff(database: Database, dialect: Dialect, tokens: string[]): Promise<void> {
	let next = 0;
	const one = (loader: boolean) => {
		const sessions = storageOf(database, { performance: { batchLoader: loader } }).sessions;
		return async () => {
			if (!(await sessions.findByToken(tokens[next++ % tokens.length]!)))
				throw new Error('a seeded session is missing');
			return 1;
		};
	};
	const on = one(true);
	const off = one(false);
	await compare(`${dialect}: batch loader, 20 callers`, [
		['on', (ms) => sample(on, 20, ms)],
		['off', (ms) => sample(off, 20, ms)]
	]);
}

/** The lookup's SELECT list as plain columns: what the JSON form would be without its wrapper. */
const PLAIN_COLUMNS = `
	SELECT s.id, s.user_id, s.token, s.expires_at, s.created_at, s.updated_at, s.ip_address, s.user_agent,
		s.policy, s.idle_seconds, s.refresh_seconds, s.absolute_expires_at, s.known_networks, s.persistent,
		u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at
	FROM session s JOIN "user" u ON u.id = s.user_id
	WHERE s.token = ANY($1)`;
/** The same with times as epoch milliseconds, as the JSON form sends them. */
const EPOCH_COLUMNS = SESSIONS_BY_TOKENS.replace(/json_build_array\(([\s\S]*)\)::text/, '$1');

async function postgresRowForms(database: Database, tokens: string[]): Promise<void> {
	const pool = (database as { client: pg.Pool }).client;
	let next = 0;
	const batch = () => Array.from({ length: 7 }, () => tokens[next++ % tokens.length]!);
	const form = (name: string, text: string, read: (row: unknown[]) => StoredSession) => async () => {
		const result = await pool.query<unknown[]>({ name: `bench_${name}`, text, values: [batch()], rowMode: 'array' });
		return result.rows.map(read).length;
	};
	// The same reader for all three: the columns come in the same order, and new Date() takes pg's
	// Date as well as epoch milliseconds.
	const json = form('json', SESSIONS_BY_TOKENS, ([text]) => readSessionRow(JSON.parse(text as string) as unknown[]));
	const plain = form('plain', PLAIN_COLUMNS, readSessionRow);
	const epoch = form('epoch', EPOCH_COLUMNS, readSessionRow);
	await compare('postgres: row form, 7 tokens a query, 3 in flight', [
		['one JSON text column', (ms) => sample(json, 3, ms)],
		["plain columns, pg's parsers", (ms) => sample(plain, 3, ms)],
		['plain columns, epoch ms', (ms) => sample(epoch, 3, ms)]
	]);
}

const dialects = (process.argv[2] ?? 'sqlite,postgres,mysql').split(',') as Dialect[];
console.log(
	`lookup bench: ${USERS} users in rotation among ${USERS + OTHER_SESSIONS} sessions, ${ROUNDS} rounds of ${ROUND_MS} ms (warm-up ${WARMUP_MS} ms excluded)`
);
for (const dialect of dialects) {
	const { database, tokens, drop } = await seeded(dialect);
	try {
		await batchLoaderOnAndOff(database, dialect, tokens);
		if (dialect === 'postgres') await postgresRowForms(database, tokens);
	} finally {
		await drop();
	}
}
