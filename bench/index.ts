/**
 * `npm run bench`: what per-request session validation costs a production server, measured
 * over HTTP with autocannon against `node build` on SQLite and PostgreSQL, with the issue's
 * targets printed PASS/FAIL per line. Not part of `npm test`: timings depend on the machine.
 */
import { buildApp } from './app';
import {
	comparePages,
	MAX_PURGE_P99_RATIO,
	MAX_PURGE_ROUNDS,
	MAX_SIGN_OUT_EVERYWHERE_MS,
	PURGED_ROWS,
	purgeUnderLoad,
	signOutEverywhere,
	SIGN_OUT_EVERYWHERE_SESSIONS,
	type CaseSettings,
	type Check
} from './cases';
import {
	isWholeAbove,
	parseDialects,
	parseBenchArgs,
	parseNumber,
	printTable,
	progress,
	runBench,
	stopOnSignals,
	UsageError,
	writeResults
} from './cli';
import type { Dialect } from './scratch';

const CASES = ['pages', 'refresh', 'signout', 'purge'] as const;
type CaseName = (typeof CASES)[number];
const DEFAULT_SIZES = [1_000, 100_000, 1_000_000];
/** Aborted by the first Ctrl-C (see stopOnSignals). */
const interrupted = new AbortController();

const USAGE = `Usage: npm run bench -- [options]

Builds the app, starts the production server (node build) on loopback with a scratch
database per case, seeds users and sessions in bulk, and loads it with autocannon,
alternating the cases A B A B … in every round so that drift in the machine's speed
lands on all of them alike. Medians over the rounds are compared with the targets.

Cases (--only, comma-separated; default all):
  pages    the public page (/) anonymous, the same page with a valid session (no refresh
           due) and the protected page (/account) with it, at each --sizes session rows:
           req/s, p50, p99, ratios to anonymous /
  refresh  / with a session due a refresh on every request (worst case; loaded in the
           same rotation as pages)
  signout  sign out everywhere (the form action) for a user with ${SIGN_OUT_EVERYWHERE_SESSIONS} sessions, ms
  purge    p99 of signed-in requests while the server purges ${PURGED_ROWS} expired rows vs without
           (at most ${MAX_PURGE_ROUNDS} rounds)

Options:
  --dialect sqlite|postgres|both  database(s) to run on (default: both)
  --sizes N,N,…                   session rows for the pages case (default: ${DEFAULT_SIZES.join(',')})
  --seconds N                     seconds per load run (default: 5)
  --rounds N                      rounds of alternation (default: 6)
  --connections N                 concurrent connections (default: 20)
  --no-build                      use the existing build/ instead of running vite build
  --help                          show this text

Targets: signed-in/anonymous req/s on / >= 0.85 on SQLite and >= 0.70 on PostgreSQL; its
p99 <= 1.5 x; that ratio at the largest size within 5% of the smallest; sign out
everywhere < ${MAX_SIGN_OUT_EVERYWHERE_MS} ms; p99 during the purge <= ${MAX_PURGE_P99_RATIO} x without.
PostgreSQL: scratch databases are created on TEST_POSTGRES_URL (default the local server).
The table is also written to bench/results/latest.json. Exit status: 0 when every line
passes, 1 when one fails or the run fails, 2 on a bad argument.`;

interface Options {
	dialects: Dialect[];
	cases: CaseName[];
	sizes: number[];
	build: boolean;
	seconds: number;
	rounds: number;
	connections: number;
}

function parseOptions(argv: string[]): Options | 'help' {
	const parsed = parseBenchArgs(argv, {
		dialect: { type: 'string', default: 'both' },
		only: { type: 'string', default: CASES.join(',') },
		sizes: { type: 'string', default: DEFAULT_SIZES.join(',') },
		seconds: { type: 'string', default: '5' },
		rounds: { type: 'string', default: '6' },
		connections: { type: 'string', default: '20' },
		'no-build': { type: 'boolean', default: false }
	});
	if (!parsed) return 'help';
	return {
		dialects: parseDialects(parsed.dialect),
		cases: parseCases(parsed.only),
		sizes: parsed.sizes.split(',').map((raw) => parseNumber('--sizes', raw, isWholeAbove(0), 'a list of row counts')),
		build: !parsed['no-build'],
		seconds: parseNumber('--seconds', parsed.seconds, isWholeAbove(0), 'a whole number of seconds above 0'),
		rounds: parseNumber('--rounds', parsed.rounds, isWholeAbove(0), 'a whole number above 0'),
		connections: parseNumber('--connections', parsed.connections, isWholeAbove(0), 'a whole number above 0')
	};
}

function parseCases(raw: string): CaseName[] {
	const names = raw.split(',').map((name) => name.trim());
	const unknown = names.filter((name) => !(CASES as readonly string[]).includes(name));
	if (unknown.length > 0) throw new UsageError(`--only: ${unknown.join(', ')} is not one of ${CASES.join(', ')}`);
	return CASES.filter((name) => names.includes(name));
}

/** Runs the chosen cases on `dialect`, adding each case's lines to `checks` as soon as it ends. */
async function benchDialect(dialect: Dialect, options: Options, checks: Check[]): Promise<void> {
	const settings: CaseSettings = {
		connections: options.connections,
		seconds: options.seconds,
		rounds: options.rounds,
		signal: interrupted.signal,
		progress
	};
	const has = (name: CaseName) => options.cases.includes(name);
	if (has('pages') || has('refresh')) {
		const sizes = has('pages') ? options.sizes : [Math.min(...options.sizes)];
		const all = await comparePages(dialect, sizes, has('refresh'), settings);
		checks.push(...all.filter((check) => has('pages') || check.pass === null));
	}
	if (has('signout')) checks.push(...(await signOutEverywhere(dialect, settings)));
	if (has('purge')) {
		progress(`${dialect}: purge case, ${Math.min(options.rounds, MAX_PURGE_ROUNDS)} rounds`);
		checks.push(...(await purgeUnderLoad(dialect, settings)));
	}
}

function printChecks(checks: Check[]): void {
	printTable(
		['dialect', 'measure', 'result', 'target', 'verdict'],
		checks.map((check) => [check.dialect, check.line, check.result, check.target, verdict(check)]),
		['left', 'left', 'left', 'left', 'left']
	);
}

function verdict(check: Check): string {
	return check.pass === null ? '—' : check.pass ? 'PASS' : 'FAIL';
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
		buildApp();
	}
	const checks: Check[] = [];
	try {
		for (const dialect of options.dialects) await benchDialect(dialect, options, checks);
	} catch (error) {
		// Minutes of finished cases are worth showing even when a later one fails or is interrupted.
		if (checks.length > 0) {
			progress('stopped early; the lines finished before (not written to bench/results):');
			printChecks(checks);
		}
		throw error;
	}
	printChecks(checks);
	const failed = checks.filter((check) => check.pass === false).length;
	console.log(failed === 0 ? 'every line PASS' : `${failed} line${failed === 1 ? '' : 's'} FAIL`);
	writeResults('latest.json', {
		options: { ...options, dialects: options.dialects },
		checks: checks.map((check) => ({ ...check, verdict: verdict(check) }))
	});
	return failed === 0 ? 0 : 1;
}

await runBench(USAGE, interrupted, main);
