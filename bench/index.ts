/**
 * `npm run bench`: per-call cost of Latchkey's session validator against Better Auth's
 * auth.api.getSession, on SQLite and PostgreSQL. Not part of `npm test`: timings depend on the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrateDatabase, openDatabase } from '../src/lib/server/db';
import { measureAlternately, type Contender, type Measurement } from './measure';
import { createScratchDatabase, dropAllScratchDatabases, POSTGRES_ADMIN_URL, type Dialect } from './scratch';
import { seedSessions } from './seed';
import { buildStack, signIn, type BenchStack, type SignedIn } from './stack';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('./results/latest-micro.json', import.meta.url));
const BENCH_EMAIL = 'bench@example.com';
const ROUNDS = 4;
const MAX_WARMUP_MS = 500;
/** The target: per call, the validator costs at most a tenth of getSession on SQLite. */
const TARGET_RATIO = 10;
/** Aborted by the first Ctrl-C (see stopOnSignals). */
const interrupted = new AbortController();

const USAGE = `Usage: npm run bench -- [options]

Times Latchkey's session validator (validator.check) against Better Auth's
auth.api.getSession for one signed-in user, alternating the two in ${ROUNDS} rounds each.

Options:
  --dialect sqlite|postgres|both  database(s) to run on (default: both)
  --seconds N                     seconds per contender and dialect, split over the rounds (default: 3)
  --sessions N                    session rows of other users seeded first (default: 10000)
  --help                          show this text

PostgreSQL: a scratch database is created on BENCH_POSTGRES_URL
(default ${POSTGRES_ADMIN_URL}) and dropped afterwards.
Results are also written to bench/results/latest-micro.json.
Exit status: 0 when the target (validator >= ${TARGET_RATIO}x cheaper on SQLite) is met or not measured,
1 when it is missed or the run fails, 2 on a bad argument.`;

interface Options {
	dialects: Dialect[];
	seconds: number;
	sessions: number;
}

interface DialectResult {
	dialect: Dialect;
	validator: Measurement;
	getSession: Measurement;
	/** getSession's cost per call over the validator's. */
	ratio: number;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			strict: true,
			allowPositionals: false,
			options: {
				dialect: { type: 'string', default: 'both' },
				seconds: { type: 'string', default: '3' },
				sessions: { type: 'string', default: '10000' },
				help: { type: 'boolean', default: false }
			}
		}).values;
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	if (parsed.help) return 'help';
	return {
		dialects: parseDialects(parsed.dialect),
		seconds: parseNumber('--seconds', parsed.seconds, (n) => n > 0, 'a number of seconds above 0'),
		sessions: parseNumber('--sessions', parsed.sessions, (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number')
	};
}

function parseDialects(raw: string): Dialect[] {
	if (raw === 'both') return ['sqlite', 'postgres'];
	if (raw === 'sqlite' || raw === 'postgres') return [raw];
	throw new UsageError(`--dialect "${raw}" is not one of sqlite, postgres, both`);
}

function parseNumber(name: string, raw: string, valid: (n: number) => boolean, expected: string): number {
	const value = raw.trim() === '' ? NaN : Number(raw);
	if (!Number.isFinite(value) || !valid(value)) throw new UsageError(`${name} "${raw}" is not ${expected}`);
	return value;
}

/** A fresh, migrated and seeded database per dialect, dropped again whatever happens. */
async function benchDialect(dialect: Dialect, options: Options): Promise<DialectResult> {
	const scratch = await createScratchDatabase(dialect);
	try {
		const database = openDatabase(scratch.target);
		try {
			await migrateDatabase(database, PROJECT_ROOT);
			const stack = buildStack(scratch.target, database);
			const signedIn = await signIn(stack, BENCH_EMAIL);
			progress(`${dialect}: signed in; seeding ${options.sessions} sessions of other users`);
			await seedSessions(database, options.sessions);
			progress(`${dialect}: measuring for about ${2 * options.seconds} s`);
			return await compare(dialect, stack, signedIn, options.seconds);
		} finally {
			await database.close();
		}
	} finally {
		await scratch.drop();
	}
}

async function compare(dialect: Dialect, stack: BenchStack, signedIn: SignedIn, seconds: number) {
	const roundMs = (seconds * 1000) / ROUNDS;
	const schedule = { rounds: ROUNDS, roundMs, warmupMs: Math.min(MAX_WARMUP_MS, roundMs), signal: interrupted.signal };
	const [validator, getSession] = await measureAlternately(contenders(stack, signedIn), schedule);
	return {
		dialect,
		validator: validator!,
		getSession: getSession!,
		ratio: getSession!.medianMicros / validator!.medianMicros
	};
}

function contenders({ validator, auth }: BenchStack, { userId, cookie }: SignedIn): Contender[] {
	return [
		{
			name: 'validator',
			// A cookie action would mean a refresh (a write) was due, which this bench must not time.
			call: async () => {
				const result = await validator.check(cookie);
				return result.user?.id === userId && result.cookie === null;
			}
		},
		{
			name: 'getSession',
			call: async () => (await auth.api.getSession({ headers: new Headers({ cookie }) }))?.user.id === userId
		}
	];
}

function printTable(results: DialectResult[]): void {
	const header = ['dialect', 'validator µs/call', 'getSession µs/call', 'getSession/validator'];
	const rows = results.map((r) => [
		r.dialect,
		r.validator.medianMicros.toFixed(1),
		r.getSession.medianMicros.toFixed(1),
		`${r.ratio.toFixed(1)}×`
	]);
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
	const line = (cells: string[]) =>
		cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join(' | ');
	console.log(line(header));
	console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
	for (const row of rows) console.log(line(row));
}

/** true, false, or null when SQLite was not run. */
function targetVerdict(results: DialectResult[]): boolean | null {
	const sqlite = results.find((r) => r.dialect === 'sqlite');
	if (!sqlite) {
		console.log(
			`target not measured: validator ≥ ${TARGET_RATIO}× cheaper than getSession on SQLite needs --dialect sqlite|both`
		);
		return null;
	}
	const pass = sqlite.ratio >= TARGET_RATIO;
	console.log(
		`${pass ? 'PASS' : 'FAIL'}: validator is ${sqlite.ratio.toFixed(1)}× cheaper than getSession on SQLite (target ≥ ${TARGET_RATIO}×)`
	);
	return pass;
}

function writeResults(options: Options, results: DialectResult[], pass: boolean | null): void {
	const report = {
		date: new Date().toISOString(),
		node: process.version,
		cores: availableParallelism(),
		options: { seconds: options.seconds, sessions: options.sessions, rounds: ROUNDS },
		results: results.map((r) => ({
			dialect: r.dialect,
			validatorMicrosPerCall: r.validator.medianMicros,
			getSessionMicrosPerCall: r.getSession.medianMicros,
			ratio: r.ratio,
			// Process CPU per call (includes worker threads, e.g. WebCrypto on libuv's pool): wall minus this is waiting.
			cpuMicrosPerCall: { validator: r.validator.medianCpuMicros, getSession: r.getSession.medianCpuMicros },
			rounds: { validator: r.validator.roundMicros, getSession: r.getSession.roundMicros },
			calls: { validator: r.validator.calls, getSession: r.getSession.calls }
		})),
		target: { dialect: 'sqlite', minRatio: TARGET_RATIO, pass }
	};
	mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
	writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, '\t')}\n`);
	progress(`results written to ${RESULTS_FILE}`);
}

/** Progress goes to stderr so stdout holds just the table and the verdict. */
function progress(message: string): void {
	console.error(`bench: ${message}`);
}

/** Ctrl-C must not leave a scratch PostgreSQL database behind: the first one stops the run cleanly. */
function stopOnSignals(): void {
	for (const [signal, code] of [
		['SIGINT', 130],
		['SIGTERM', 143]
	] as const) {
		process.on(signal, () => {
			process.exitCode = code;
			if (!interrupted.signal.aborted) {
				// Stop between calls and let the finally blocks close the pool before the database goes.
				progress(`${signal}: stopping; press Ctrl-C again to quit at once`);
				interrupted.abort(new Error(`interrupted by ${signal}`));
				return;
			}
			void dropAllScratchDatabases().finally(() => process.exit(code));
		});
	}
}

async function main(argv: string[]): Promise<number> {
	let options;
	try {
		options = parseOptions(argv);
	} catch (error) {
		if (!(error instanceof UsageError)) throw error;
		console.error(`bench: ${error.message}\n\n${USAGE}`);
		return 2;
	}
	if (options === 'help') {
		console.log(USAGE);
		return 0;
	}
	stopOnSignals();
	const results: DialectResult[] = [];
	for (const dialect of options.dialects) {
		interrupted.signal.throwIfAborted();
		results.push(await benchDialect(dialect, options));
	}
	printTable(results);
	const pass = targetVerdict(results);
	writeResults(options, results, pass);
	return pass === false ? 1 : 0;
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	if (interrupted.signal.aborted) progress('interrupted; scratch databases dropped');
	else {
		console.error(`bench: failed: ${(error as Error).stack ?? error}`);
		process.exitCode = 1;
	}
}
