/**
 * `npm run bench:profile`: where a signed-in request's extra cost goes. The production server
 * runs with V8's sampling profiler preloaded (profiler-preload.mjs); anonymous `/`, signed-in
 * `/` and signed-in `/account` are loaded as `npm run bench` loads them, each profiled during
 * its run only, and the server's time per request is split into the categories of
 * profile-categories.ts. Not part of `npm test`: timings depend on the machine.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildApp, startBenchApp, type BenchApp } from './app';
import { MIN_SIGNED_IN_USERS } from './cases';
import {
	isWholeAbove,
	parseBenchArgs,
	parseDialects,
	parseNumber,
	printTable,
	progress,
	runBench,
	stopOnSignals,
	UsageError,
	writeResults
} from './cli';
import { loadFor, warmUpSeconds, type LoadRun, type Target } from './load';
import { median, roundOrder } from './measure';
import { CATEGORIES, timeByCategory, type Category, type CpuProfile } from './profile-categories';
import type { Dialect } from './scratch';
import { seedPopulation } from './seed';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./profiler-preload.mjs', import.meta.url));
const PORT = 4530;
const CONNECTIONS = 20;
/** How long the server may take to write a profile once told to stop. */
const PROFILE_WRITE_MS = 15_000;
/** Aborted by the first Ctrl-C (see stopOnSignals). */
const interrupted = new AbortController();

const USAGE = `Usage: npm run bench:profile -- [options]

Builds the app and starts the production server with V8's sampling profiler preloaded on a
scratch database of --sessions sessions. Loads anonymous /, signed-in / and signed-in
/account with autocannon (${CONNECTIONS} connections; signed-in requests send --users users'
cookies in turn) after a short warm-up each, alternating A B C, C B A, … for --rounds
rounds and profiling each run only. Prints the server's time per request by category (the
median over the rounds), and the signed-in pages' difference from anonymous /. The
profiler slows the server: the categories' shares are the figures to read, and the app
CPU per request is printed beside them as the profiled process used it.

Options:
  --dialect sqlite|postgres|mysql|all|both   database(s) (default: all)
  --seconds N                     seconds per profiled run (default: 5)
  --rounds N                      rounds of alternation; medians are printed (default: 3)
  --sessions N                    session rows (default: 20000)
  --users N                       signed-in users whose cookies rotate, at least ${MIN_SIGNED_IN_USERS} (default: 2000)
  --no-build                      use the existing build/ instead of running vite build
  --help                          show this text

Results are also written to bench/results/latest-profile.json.
Exit status: 0 when the profiles were taken, 1 when the run fails, 2 on a bad argument.`;

interface Options {
	dialects: Dialect[];
	seconds: number;
	rounds: number;
	sessions: number;
	users: number;
	build: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
	const parsed = parseBenchArgs(argv, {
		dialect: { type: 'string', default: 'all' },
		seconds: { type: 'string', default: '5' },
		rounds: { type: 'string', default: '3' },
		sessions: { type: 'string', default: '20000' },
		users: { type: 'string', default: '2000' },
		'no-build': { type: 'boolean', default: false }
	});
	if (!parsed) return 'help';
	const options = {
		dialects: parseDialects(parsed.dialect),
		seconds: parseNumber('--seconds', parsed.seconds, isWholeAbove(0), 'a whole number of seconds above 0'),
		rounds: parseNumber('--rounds', parsed.rounds, isWholeAbove(0), 'a whole number above 0'),
		sessions: parseNumber('--sessions', parsed.sessions, isWholeAbove(0), 'a whole number above 0'),
		users: parseNumber(
			'--users',
			parsed.users,
			isWholeAbove(MIN_SIGNED_IN_USERS - 1),
			`a whole number of at least ${MIN_SIGNED_IN_USERS}`
		),
		build: !parsed['no-build']
	};
	if (options.users > options.sessions) {
		throw new UsageError(`--users ${options.users} is more than --sessions ${options.sessions}`);
	}
	return options;
}

/** One profiled run: its load figures and the server's time per request by category. */
interface Profiled {
	page: string;
	run: LoadRun;
	microsPerRequest: Record<Category, number>;
}

const PAGES = ['anonymous /', 'signed-in /', 'signed-in /account'] as const;

async function profileDialect(dialect: Dialect, options: Options): Promise<Profiled[]> {
	mkdirSync(join(PROJECT_ROOT, '.tmp'), { recursive: true });
	const folder = mkdtempSync(join(PROJECT_ROOT, '.tmp', 'bench-profile-'));
	let app: BenchApp | undefined;
	try {
		progress(`${dialect}: seeding ${options.sessions.toLocaleString('en')} sessions`);
		app = await startBenchApp({
			dialect,
			port: PORT,
			seed: (database) => seedPopulation(database, options.sessions - options.users),
			env: { NODE_OPTIONS: `--import ${PRELOAD}`, LATCHKEY_BENCH_PROFILE_DIR: folder }
		});
		const cookies = (await app.signInMany(options.users)).map((user) => user.cookie);
		const targets: Target[] = [
			{ name: PAGES[0], url: app.publicUrl, appCpuMicros: app.instance.cpuMicros },
			{ name: PAGES[1], url: app.publicUrl, cookies, appCpuMicros: app.instance.cpuMicros },
			{ name: PAGES[2], url: app.protectedUrl, cookies, appCpuMicros: app.instance.cpuMicros }
		];
		const settings = { connections: CONNECTIONS, seconds: options.seconds, signal: interrupted.signal };
		for (const target of targets) await loadFor(target, settings, warmUpSeconds(settings));
		progress(
			`${dialect}: ${targets.length} pages × ${options.rounds} rounds × ${options.seconds} s, profiled, alternating`
		);
		const rounds = targets.map(() => [] as Profiled[]);
		let profiles = 0;
		for (let round = 0; round < options.rounds; round++) {
			for (const [index, target] of roundOrder(targets, round)) {
				process.kill(app.instance.pid, 'SIGUSR2');
				const run = await loadFor(target, settings);
				process.kill(app.instance.pid, 'SIGUSR2');
				if (run.failures > 0) throw new Error(`${target.name}: ${run.failures} of ${run.requests} requests failed`);
				const total = timeByCategory(await profileWritten(join(folder, `${++profiles}.cpuprofile`)));
				const microsPerRequest = Object.fromEntries(
					CATEGORIES.map((category) => [category, total[category] / Math.max(1, run.requests)])
				) as Record<Category, number>;
				rounds[index]!.push({ page: target.name, run, microsPerRequest });
			}
		}
		return rounds.map(medianOfRounds);
	} finally {
		await app?.stop();
		rmSync(folder, { recursive: true, force: true });
	}
}

/** Each category's median, and the load figures' medians, over the rounds of one page. */
function medianOfRounds(rounds: Profiled[]): Profiled {
	const of = (value: (one: Profiled) => number) => median(rounds.map(value));
	return {
		page: rounds[0]!.page,
		run: {
			...rounds[0]!.run,
			requestsPerSecond: of((one) => one.run.requestsPerSecond),
			appCpuMicros: of((one) => one.run.appCpuMicros),
			p50: of((one) => one.run.p50),
			p99: of((one) => one.run.p99)
		},
		microsPerRequest: Object.fromEntries(
			CATEGORIES.map((category) => [category, of((one) => one.microsPerRequest[category])])
		) as Record<Category, number>
	};
}

async function profileWritten(file: string): Promise<CpuProfile> {
	const deadline = Date.now() + PROFILE_WRITE_MS;
	while (!existsSync(file)) {
		if (Date.now() > deadline) throw new Error(`the server wrote no profile to ${file}`);
		await sleep(100);
	}
	// Written in one call; a file still being written does not parse yet.
	for (;;) {
		try {
			return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
		} catch (error) {
			if (Date.now() > deadline) throw error;
			await sleep(100);
		}
	}
}

function printProfiles(dialect: Dialect, profiled: Profiled[]): void {
	const [anonymous, signedIn, account] = profiled as [Profiled, Profiled, Profiled];
	const micros = (value: number) => value.toFixed(0);
	const difference = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(0)}`;
	const sum = (one: Profiled) => CATEGORIES.reduce((total, category) => total + one.microsPerRequest[category], 0);
	const row = (name: string, of: (one: Profiled) => number) => [
		name,
		micros(of(anonymous)),
		micros(of(signedIn)),
		difference(of(signedIn) - of(anonymous)),
		micros(of(account)),
		difference(of(account) - of(anonymous))
	];
	console.log(`${dialect}: server time per request, µs, median of the rounds (profiled; ${CONNECTIONS} connections)`);
	printTable(
		['category', 'anonymous /', 'signed-in /', 'difference', 'signed-in /account', 'difference'],
		[
			...CATEGORIES.map((category) => row(category, (one) => one.microsPerRequest[category])),
			row('total in the profile', sum),
			row('app CPU from /proc', (one) => one.run.appCpuMicros),
			row('req/s (profiled)', (one) => one.run.requestsPerSecond)
		],
		['left', 'right', 'right', 'right', 'right', 'right']
	);
	console.log('');
}

async function main(argv: string[]): Promise<number> {
	const options = parseOptions(argv);
	if (options === 'help') {
		console.log(USAGE);
		return 0;
	}
	stopOnSignals(interrupted);
	if (options.build) {
		progress('building the app (vite build)');
		await buildApp();
	}
	const results: Record<string, Profiled[]> = {};
	for (const dialect of options.dialects) {
		results[dialect] = await profileDialect(dialect, options);
		printProfiles(dialect, results[dialect]);
	}
	writeResults('latest-profile.json', { options, results });
	return 0;
}

await runBench(USAGE, interrupted, main);
