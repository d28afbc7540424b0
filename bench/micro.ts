/**
 * `npm run bench:micro`: per-call cost of Latchkey's session validator against Better Auth's
 * auth.api.getSession, on SQLite and PostgreSQL. Not part of `npm test`: timings depend on the machine.
 */
import { fileURLToPath } from 'node:url';
import { migrateDatabase, openDatabase } from '../src/lib/server/db';
import {
	isWholeAbove,
	parseDialects,
	parseBenchArgs,
	parseNumber,
	printTable,
	progress,
	runBench,
	stopOnSignals,
	writeResults
} from './cli';
import { measureAlternately, type Contender, type Measurement } from './measure';
import { createScratchDatabase, POSTGRES_ADMIN_URL, type Dialect } from './scratch';
import { seedPopulation } from './seed';
import { buildStack, seedBoundSignedIn, seedSignedIn, signIn, type BenchStack, type SignedIn } from './stack';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_EMAIL = 'bench@example.com';
const ROUNDS = 4;
const MAX_WARMUP_MS = 500;
/** The target: per call, the validator costs at most a tenth of getSession on SQLite. */
const TARGET_RATIO = 10;
const DEFAULT_USERS = 1000;
/** Aborted by the first Ctrl-C (see stopOnSignals). */
const interrupted = new AbortController();

const USAGE = `Usage: npm run bench:micro -- [options]

Times Latchkey's session validator (validateSessionCookie) against Better Auth's
auth.api.getSession, alternating the two in ${ROUNDS} rounds each. Each call sends the next
of --users signed-in users' cookies in turn, as real traffic does: one cookie in every call
would be served from every per-session shortcut.

Options:
  --dialect sqlite|postgres|mysql|all|both
                                  database(s) to run on; both is sqlite and postgres (default: all)
  --seconds N                     seconds per contender and dialect, split over the rounds (default: 3)
  --sessions N                    session rows of other users seeded first (default: 10000)
  --users N                       signed-in users whose cookies rotate (default: ${DEFAULT_USERS})
  --help                          show this text

PostgreSQL: a scratch database is created on TEST_POSTGRES_URL
(default ${POSTGRES_ADMIN_URL}) and dropped afterwards.
Results are also written to bench/results/latest-micro.json.
Exit status: 0 when the target (validator >= ${TARGET_RATIO}x cheaper on SQLite) is met or not measured,
1 when it is missed or the run fails, 2 on a bad argument.`;

interface Options {
	dialects: Dialect[];
	seconds: number;
	sessions: number;
	users: number;
}

interface DialectResult {
	dialect: Dialect;
	validator: Measurement;
	/** The validator on sessions bound to their device, each request with its credential cookie. */
	bound: Measurement;
	getSession: Measurement;
	/** getSession's cost per call over the validator's. */
	ratio: number;
}

function parseOptions(argv: string[]): Options | 'help' {
	const parsed = parseBenchArgs(argv, {
		dialect: { type: 'string', default: 'all' },
		seconds: { type: 'string', default: '3' },
		sessions: { type: 'string', default: '10000' },
		users: { type: 'string', default: String(DEFAULT_USERS) }
	});
	if (!parsed) return 'help';
	return {
		dialects: parseDialects(parsed.dialect),
		seconds: parseNumber('--seconds', parsed.seconds, (n) => n > 0, 'a number of seconds above 0'),
		sessions: parseNumber('--sessions', parsed.sessions, isWholeAbove(-1), 'a whole number'),
		users: parseNumber('--users', parsed.users, isWholeAbove(0), 'a whole number above 0')
	};
}

/** A fresh, migrated and seeded database per dialect, dropped again whatever happens. */
async function benchDialect(dialect: Dialect, options: Options): Promise<DialectResult> {
	const scratch = await createScratchDatabase(dialect);
	try {
		const database = openDatabase(scratch.target);
		try {
			await migrateDatabase(database, PROJECT_ROOT);
			const stack = buildStack(scratch.target, database);
			// One real sign-in, so the rotation holds a cookie exactly as Better Auth issues it.
			const signedIn = [await signIn(stack, BENCH_EMAIL), ...(await seedSignedIn(stack, database, options.users - 1))];
			const bound = await seedBoundSignedIn(stack, database, options.users);
			progress(`${dialect}: ${options.users} users signed in; seeding ${options.sessions} sessions of other users`);
			await seedPopulation(database, options.sessions);
			progress(`${dialect}: measuring for about ${3 * options.seconds} s`);
			return await compare(dialect, stack, signedIn, bound, options.seconds);
		} finally {
			await database.close();
		}
	} finally {
		await scratch.drop();
	}
}

async function compare(dialect: Dialect, stack: BenchStack, signedIn: SignedIn[], bound: SignedIn[], seconds: number) {
	const roundMs = (seconds * 1000) / ROUNDS;
	const schedule = { rounds: ROUNDS, roundMs, warmupMs: Math.min(MAX_WARMUP_MS, roundMs), signal: interrupted.signal };
	const [validator, getSession, boundValidator] = await measureAlternately(
		contenders(stack, signedIn, bound),
		schedule
	);
	return {
		dialect,
		validator: validator!,
		bound: boundValidator!,
		getSession: getSession!,
		ratio: getSession!.medianMicros / validator!.medianMicros
	};
}

function contenders({ validator, auth }: BenchStack, signedIn: SignedIn[], bound: SignedIn[]): Contender[] {
	const validatorTurn = inTurn(signedIn);
	const getSessionTurn = inTurn(signedIn);
	const boundTurn = inTurn(bound);
	return [
		{
			name: 'validator',
			// A cookie action would mean a refresh (a write) was due, which this bench must not time.
			call: async () => {
				const { userId, cookie } = validatorTurn();
				const result = await validator.validateSessionCookie(cookie);
				return result.user?.id === userId && result.cookie === null;
			}
		},
		{
			name: 'getSession',
			call: async () => {
				const { userId, cookie } = getSessionTurn();
				return (await auth.api.getSession({ headers: new Headers({ cookie }) }))?.user.id === userId;
			}
		},
		{
			name: 'validator (bound)',
			call: async () => {
				const { userId, cookie } = boundTurn();
				const result = await validator.validateSessionCookie(cookie);
				return result.user?.id === userId && result.cookie === null;
			}
		}
	];
}

/** The next user each time, round and round. */
function inTurn(signedIn: SignedIn[]): () => SignedIn {
	let next = 0;
	return () => signedIn[next++ % signedIn.length]!;
}

function printResults(results: DialectResult[]): void {
	printTable(
		['dialect', 'validator µs/call', 'bound µs/call', 'getSession µs/call', 'getSession/validator'],
		results.map((r) => [
			r.dialect,
			r.validator.medianMicros.toFixed(1),
			r.bound.medianMicros.toFixed(1),
			r.getSession.medianMicros.toFixed(1),
			`${r.ratio.toFixed(1)}×`
		]),
		['left', 'right', 'right', 'right', 'right']
	);
}

/** true, false, or null when SQLite was not run. */
function targetVerdict(results: DialectResult[]): boolean | null {
	const sqlite = results.find((r) => r.dialect === 'sqlite');
	if (!sqlite) {
		console.log(
			`target not measured: validator ≥ ${TARGET_RATIO}× cheaper than getSession on SQLite needs --dialect sqlite|all|both`
		);
		return null;
	}
	const pass = sqlite.ratio >= TARGET_RATIO;
	console.log(
		`${pass ? 'PASS' : 'FAIL'}: validator is ${sqlite.ratio.toFixed(1)}× cheaper than getSession on SQLite (target ≥ ${TARGET_RATIO}×)`
	);
	return pass;
}

function writeReport(options: Options, results: DialectResult[], pass: boolean | null): void {
	writeResults('latest-micro.json', {
		options: { seconds: options.seconds, sessions: options.sessions, users: options.users, rounds: ROUNDS },
		results: results.map((r) => ({
			dialect: r.dialect,
			validatorMicrosPerCall: r.validator.medianMicros,
			boundValidatorMicrosPerCall: r.bound.medianMicros,
			getSessionMicrosPerCall: r.getSession.medianMicros,
			ratio: r.ratio,
			// Process CPU per call (includes worker threads, e.g. WebCrypto on libuv's pool): wall minus this is waiting.
			cpuMicrosPerCall: { validator: r.validator.medianCpuMicros, getSession: r.getSession.medianCpuMicros },
			rounds: { validator: r.validator.roundMicros, getSession: r.getSession.roundMicros },
			calls: { validator: r.validator.calls, getSession: r.getSession.calls }
		})),
		target: { dialect: 'sqlite', minRatio: TARGET_RATIO, pass }
	});
}

async function main(argv: string[]): Promise<number> {
	const options = parseOptions(argv);
	if (options === 'help') {
		console.log(USAGE);
		return 0;
	}
	stopOnSignals(interrupted);
	const results: DialectResult[] = [];
	for (const dialect of options.dialects) {
		interrupted.signal.throwIfAborted();
		results.push(await benchDialect(dialect, options));
	}
	printResults(results);
	const pass = targetVerdict(results);
	writeReport(options, results, pass);
	return pass === false ? 1 : 0;
}

await runBench(USAGE, interrupted, main);
