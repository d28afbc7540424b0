/**
 * `npm run bench`: what per-request session validation costs a production server, measured
 * over HTTP with autocannon against `node build` on SQLite and PostgreSQL, side by side with
 * the same app doing no session work and with stock Better Auth, with the targets of
 * docs/PERFORMANCE.md ("What is compared") printed PASS/FAIL per line. Not part of `npm test`: timings depend on the machine.
 */
import { buildApp, useNetwork } from './app';
import {
	comparePages,
	MAX_PURGE_P99_RATIO,
	MAX_PURGE_ROUNDS,
	MAX_SIGN_OUT_EVERYWHERE_MS,
	MIN_RATIO,
	MIN_SIGNED_IN_USERS,
	PURGED_ROWS,
	purgeUnderLoad,
	signOutEverywhere,
	SIGN_OUT_EVERYWHERE_SESSIONS,
	type CaseFigures,
	type CaseSettings,
	type Check,
	type PagesReport
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
import {
	buildPeers,
	COOKIE_CACHE_MAX_AGE_SECONDS,
	PEER_DESCRIPTIONS,
	PEERS,
	syncProject,
	type PeerBuild
} from './peers';
import type { Dialect } from './scratch';

const CASES = ['pages', 'refresh', 'bound', 'peers', 'signout', 'purge'] as const;
type CaseName = (typeof CASES)[number];
/**
 * Signed-in users whose cookies rotate: as many as a busy deployment has active, so that no
 * per-process memory of recent sessions or cookies could answer them (there is none:
 * docs/decisions/0013-no-session-caches-in-process.md) and the figures are those of a lookup
 * per request. --quick rotates fewer, to stay within its few minutes (Better Auth's cookie
 * cache peer fetches every user's cookie first).
 */
const DEFAULTS = {
	sizes: '20000,100000,1000000',
	seconds: '5',
	rounds: '6',
	users: '20000',
	only: CASES.join(',')
};
/**
 * --quick: about three minutes for the three engines on two quiet cores, a fresh clone's first
 * builds included. Its 1-second rounds show the picture, not figures to quote.
 */
const QUICK = { sizes: '20000', seconds: '1', rounds: '3', users: '1000', only: 'pages,refresh,bound,peers' };
/** Aborted by the first Ctrl-C (see stopOnSignals). */
const interrupted = new AbortController();
/** The veth pair's addresses bench/netns.sh sets up: the server's side and the client namespace's. */
const NETNS_ADDRESSES = { server: '10.99.0.1', client: '10.99.0.2' };

const USAGE = `Usage: npm run bench -- [options]

Builds the app, starts the production server (node build) on loopback with a scratch
database per size, seeds users and sessions in bulk, and loads it with autocannon,
alternating the cases A B A B … in every round so that drift in the machine's speed
lands on all of them alike. Medians over the rounds are compared with the targets, with
the lowest and highest round beside them. Signed-in load sends the cookies of --users
users in turn; every case sends the same browser headers, built the same way.

Cases (--only, comma-separated; default all):
  pages    the public page (/) anonymous, the same page with a valid session (no refresh
           due) and the protected page (/account) with it, at each --sizes session rows:
           req/s, p50, p99, ratios to anonymous /
  refresh  / with a session due a refresh on every request (worst case; loaded in the
           same rotation as pages)
  bound    / and /account signed in with sessions bound to a device (DBSC), each request
           with its credential cookie, at the smallest size in the same rotation as pages:
           req/s and p99 ratios to the same pages of unbound sessions (reported, no target)
  peers    the same signed-in / on the app built with its session hook replaced: no
           session work (the limit for the page), the same with Latchkey's response
           scheduling (respondAtEndOfTurn), Latchkey's own hook without that scheduling,
           stock Better Auth (auth.api.getSession({ headers })),
           and stock Better Auth with its cookieCache
           (maxAge ${COOKIE_CACHE_MAX_AGE_SECONDS} s), at the largest size, in the same rotation; and what a
           revoked session gets on its next request on each. The peers are built by the
           bench from the checked-out source into a temporary folder (.tmp/bench-peers-*,
           removed afterwards); nothing of them is in the repository
  signout  sign out everywhere (the form action) for a user with ${SIGN_OUT_EVERYWHERE_SESSIONS} sessions, ms
  purge    p99 of signed-in requests while the server purges ${PURGED_ROWS} expired rows vs without
           (at most ${MAX_PURGE_ROUNDS} rounds); any failed request during the purge fails it

Options:
  --dialect sqlite|postgres|mysql|all|both
                                  database(s) to run on; both is sqlite and postgres (default: all)
  --sizes N,N,…                   session rows for the pages case (default: ${DEFAULTS.sizes})
  --seconds N                     seconds per load run (default: ${DEFAULTS.seconds})
  --rounds N                      rounds of alternation (default: ${DEFAULTS.rounds})
  --connections N                 concurrent connections (default: 20)
  --users N                       signed-in users whose cookies rotate, at least ${MIN_SIGNED_IN_USERS} (default: ${DEFAULTS.users})
  --quick                         --sizes ${QUICK.sizes} --seconds ${QUICK.seconds} --rounds ${QUICK.rounds} --users ${QUICK.users}
                                  --only ${QUICK.only}
                                  (each can still be given); a few minutes at most
  --json                          print one JSON object (per engine: each case's req/s, p50,
                                  p99, and the ratios) on stdout, the tables on stderr
                                  (npm run -s keeps npm's own lines off stdout)
  --no-build                      use the existing build/ instead of running vite build
  --netns NAME                    load from the network namespace NAME over a veth pair, not
                                  loopback: the servers listen on every address and are loaded
                                  at ${NETNS_ADDRESSES.server}, from ${NETNS_ADDRESSES.client} (sudo bench/netns.sh up
                                  creates them, down removes them); needs root
  --netns-delay-ms N              with --netns: a relay in the namespace holds every chunk N ms
                                  each way (a link with latency; its CPU counts as the bench's)
  --help                          show this text

Targets: signed-in / and signed-in /account, each against anonymous /: req/s ratio >= ${MIN_RATIO.sqlite.toFixed(2)}
on SQLite and >= ${MIN_RATIO.postgres.toFixed(2)} on PostgreSQL and MySQL, p99 <= 1.5 x; the / ratio at the largest
size within 5% of the smallest; a revoked session signed out on its next request; sign out
everywhere < ${MAX_SIGN_OUT_EVERYWHERE_MS} ms; p99 during the purge <= ${MAX_PURGE_P99_RATIO} x without, no request failed.
PostgreSQL and MySQL: scratch databases are created on TEST_POSTGRES_URL and TEST_MYSQL_URL
(default the local servers).
The report is also written to bench/results/latest.json. Exit status: 0 when every line
passes, 1 when one fails or the run fails, 2 on a bad argument.`;

interface Options {
	dialects: Dialect[];
	cases: CaseName[];
	sizes: number[];
	build: boolean;
	seconds: number;
	rounds: number;
	connections: number;
	users: number;
	quick: boolean;
	json: boolean;
	/** The network namespace the load comes from; null: loopback. */
	netns: string | null;
	netnsDelayMs: number;
}

function parseOptions(argv: string[]): Options | 'help' {
	const parsed = parseBenchArgs(argv, {
		dialect: { type: 'string', default: 'all' },
		only: { type: 'string', default: '' },
		sizes: { type: 'string', default: '' },
		seconds: { type: 'string', default: '' },
		rounds: { type: 'string', default: '' },
		connections: { type: 'string', default: '20' },
		users: { type: 'string', default: '' },
		quick: { type: 'boolean', default: false },
		json: { type: 'boolean', default: false },
		'no-build': { type: 'boolean', default: false },
		netns: { type: 'string', default: '' },
		'netns-delay-ms': { type: 'string', default: '0' }
	});
	if (!parsed) return 'help';
	const defaults = parsed.quick ? QUICK : DEFAULTS;
	const given = (name: keyof typeof DEFAULTS) => (parsed[name] === '' ? defaults[name] : parsed[name]);
	return {
		dialects: parseDialects(parsed.dialect),
		cases: parseCases(given('only')),
		// Ascending: the refresh-due case runs on the first (smallest), the peers on the last.
		sizes: given('sizes')
			.split(',')
			.map((raw) => parseNumber('--sizes', raw, isWholeAbove(0), 'a list of row counts'))
			.sort((a, b) => a - b),
		build: !parsed['no-build'],
		seconds: parseNumber('--seconds', given('seconds'), isWholeAbove(0), 'a whole number of seconds above 0'),
		rounds: parseNumber('--rounds', given('rounds'), isWholeAbove(0), 'a whole number above 0'),
		connections: parseNumber('--connections', parsed.connections, isWholeAbove(0), 'a whole number above 0'),
		users: parseNumber(
			'--users',
			given('users'),
			isWholeAbove(MIN_SIGNED_IN_USERS - 1),
			`a whole number of at least ${MIN_SIGNED_IN_USERS}`
		),
		quick: parsed.quick,
		json: parsed.json,
		netns: parsed.netns === '' ? null : parsed.netns,
		netnsDelayMs: parseNumber('--netns-delay-ms', parsed['netns-delay-ms'], isWholeAbove(-1), 'a whole number of ms')
	};
}

/** The signed-in users' sessions are among each size's rows: a size below --users would be mislabelled. */
function checkUsersFit(options: Options): Options {
	const smallest = Math.min(...options.sizes);
	if (options.users > smallest) {
		throw new UsageError(
			`--users ${options.users} is more than the smallest --sizes (${smallest}): give sizes of at least ${options.users}`
		);
	}
	return options;
}

function parseCases(raw: string): CaseName[] {
	const names = raw.split(',').map((name) => name.trim());
	const unknown = names.filter((name) => !(CASES as readonly string[]).includes(name));
	if (unknown.length > 0) throw new UsageError(`--only: ${unknown.join(', ')} is not one of ${CASES.join(', ')}`);
	return CASES.filter((name) => names.includes(name));
}

/** What one engine gave: the table's lines, and the pages' figures side by side. */
interface EngineResult {
	dialect: Dialect;
	pages: PagesReport | null;
}

/** Runs the chosen cases on `dialect`, adding each case's lines to `checks` as soon as it ends. */
async function benchDialect(
	dialect: Dialect,
	options: Options,
	peers: PeerBuild | null,
	checks: Check[]
): Promise<EngineResult> {
	const settings: CaseSettings = {
		connections: options.connections,
		seconds: options.seconds,
		rounds: options.rounds,
		users: options.users,
		signal: interrupted.signal,
		progress,
		...(options.netns ? { clientNetns: options.netns, clientDelayMs: options.netnsDelayMs } : {})
	};
	const has = (name: CaseName) => options.cases.includes(name);
	let pages: PagesReport | null = null;
	if (has('pages') || has('refresh') || has('bound') || has('peers')) {
		// Without the pages case, one size: the ratios need their anonymous and signed-in lines all the same.
		const sizes = has('pages') ? options.sizes : [Math.max(...options.sizes)];
		pages = await comparePages(dialect, { sizes, refreshDue: has('refresh'), bound: has('bound'), peers }, settings);
		checks.push(...pages.checks.filter((check) => has(check.group ?? 'pages') || check.pass === null));
	}
	if (has('signout')) checks.push(...(await signOutEverywhere(dialect, settings)));
	if (has('purge')) {
		progress(`${dialect}: purge case, ${Math.min(options.rounds, MAX_PURGE_ROUNDS)} rounds`);
		checks.push(...(await purgeUnderLoad(dialect, settings)));
	}
	return { dialect, pages };
}

/** The builds the cases need, side by side: the app's (unless --no-build) and the peers'. */
async function build(options: Options): Promise<PeerBuild | null> {
	if (options.build) progress('building the app (vite build)');
	const wantsPeers = options.cases.includes('peers');
	// Both builds would otherwise generate the project's .svelte-kit at the same time.
	if (wantsPeers) syncProject();
	const app = options.build ? buildApp() : Promise.resolve();
	if (!wantsPeers) {
		await app;
		return null;
	}
	for (const peer of PEERS) progress(`peer: ${PEER_DESCRIPTIONS[peer]}`);
	const [appBuilt, peersBuilt] = await Promise.allSettled([app, buildPeers(progress)]);
	if (appBuilt.status === 'rejected') {
		if (peersBuilt.status === 'fulfilled') peersBuilt.value.remove();
		throw appBuilt.reason;
	}
	if (peersBuilt.status === 'rejected') throw peersBuilt.reason;
	return peersBuilt.value;
}

function printSideBySide(results: EngineResult[], write: (line: string) => void): void {
	const rows = results.flatMap(({ dialect, pages }) =>
		(pages?.cases ?? []).map((one: CaseFigures) => [
			dialect,
			one.name,
			formatCount(one.sessions),
			one.requestsPerSecond.toFixed(0),
			`${one.spread.min.toFixed(0)}–${one.spread.max.toFixed(0)}`,
			one.p50.toFixed(0),
			one.p99.toFixed(0),
			micros(one.appCpuMicros),
			micros(one.clientCpuMicros)
		])
	);
	if (rows.length === 0) return;
	printTable(
		['dialect', 'case', 'sessions', 'req/s', 'rounds', 'p50 ms', 'p99 ms', 'app CPU µs/req', 'bench CPU µs/req'],
		rows,
		['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
		write
	);
	write('');
}

function printChecks(checks: Check[], write: (line: string) => void): void {
	printTable(
		['dialect', 'measure', 'result', 'target', 'verdict'],
		checks.map((check) => [check.dialect, check.line, check.result, check.target, verdict(check)]),
		['left', 'left', 'left', 'left', 'left'],
		write
	);
}

function verdict(check: Check): string {
	return check.pass === null ? '—' : check.pass ? 'PASS' : 'FAIL';
}

function micros(value: number): string {
	return Number.isNaN(value) ? 'n/a' : value.toFixed(0);
}

function formatCount(n: number): string {
	return n.toLocaleString('en').replace(/,/g, ' ');
}

/** One object: per engine, each case's figures and the ratios, then every line with its verdict. */
function jsonReport(options: Options, results: EngineResult[], checks: Check[]) {
	const engines = Object.fromEntries(
		results.map(({ dialect, pages }) => [
			dialect,
			{
				cases: Object.fromEntries(
					(pages?.cases ?? []).map(({ name, ...figures }) => [`${name} @${figures.sessions}`, figures])
				),
				ratios: pages?.ratios ?? {},
				lines: checks
					.filter((check) => check.dialect === dialect)
					.map(({ line, result, target }) => ({ line, result, target }))
			}
		])
	);
	return {
		options,
		peers: options.cases.includes('peers') ? PEER_DESCRIPTIONS : null,
		engines,
		checks: checks.map((check) => ({ ...check, verdict: verdict(check) }))
	};
}

async function main(argv: string[]): Promise<number> {
	const parsed = parseOptions(argv);
	if (parsed === 'help') {
		console.log(USAGE);
		return 0;
	}
	const options = checkUsersFit(parsed);
	stopOnSignals(interrupted);
	// With --json, stdout holds the JSON object only.
	const write = (line: string) => (options.json ? console.error(line) : console.log(line));
	const checks: Check[] = [];
	const results: EngineResult[] = [];
	if (options.netns) {
		useNetwork(NETNS_ADDRESSES.server, NETNS_ADDRESSES.client);
		progress(`loading from netns ${options.netns} (${NETNS_ADDRESSES.client}) to ${NETNS_ADDRESSES.server}`);
	}
	const peers = await build(options);
	try {
		for (const dialect of options.dialects) results.push(await benchDialect(dialect, options, peers, checks));
	} catch (error) {
		// Minutes of finished cases are worth showing even when a later one fails or is interrupted.
		if (checks.length > 0) {
			progress('stopped early; the lines finished before (not written to bench/results):');
			printChecks(checks, write);
		}
		throw error;
	} finally {
		peers?.remove();
	}
	const failed = checks.filter((check) => check.pass === false).length;
	printSideBySide(results, write);
	printChecks(checks, write);
	write(failed === 0 ? 'every line PASS' : `${failed} line${failed === 1 ? '' : 's'} FAIL`);
	const report = jsonReport(options, results, checks);
	if (options.json) console.log(JSON.stringify(report, null, '\t'));
	writeResults('latest.json', report);
	return failed === 0 ? 0 : 1;
}

await runBench(USAGE, interrupted, main);
