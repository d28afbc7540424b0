import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { ClientResult, ClientRun } from './load-client';
import { median, roundOrder } from './measure';

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

/** One kind of request the server is loaded with. */
export interface Target {
	name: string;
	url: string;
	/** Session cookies sent in turn, one per request, as from many signed-in browsers; none: anonymous. */
	cookies?: string[];
	/** The app process's CPU time so far in microseconds (not its database's), to tell what each request cost it. */
	appCpuMicros: () => number;
	/** Runs before each load run of `seconds`, untimed: e.g. a browser's cookies brought up to date. */
	beforeRun?: (seconds: number) => Promise<void>;
}

/**
 * Headers every request carries, signed in or not, as a browser sends them: the server reads
 * the user agent (the network watch) and the client pays for the same bytes in every case.
 */
const BROWSER_HEADERS = {
	'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) LatchkeyBench/1',
	accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
	'accept-language': 'en-GB,en;q=0.9',
	'accept-encoding': 'gzip, deflate, br'
};

export interface LoadSettings {
	connections: number;
	seconds: number;
	/**
	 * A network namespace to load from (--netns, bench/netns.sh): autocannon then runs in a
	 * process of its own there (load-client.ts), and its requests cross a veth pair.
	 */
	clientNetns?: string;
	/** With clientNetns: milliseconds each chunk is held each way by a relay there (load-client.ts). */
	clientDelayMs?: number;
	/** Aborted on Ctrl-C: the run in progress stops, and the bench cleans up. */
	signal: AbortSignal;
}

/** What one autocannon run saw. Latencies in milliseconds. */
export interface LoadRun {
	requestsPerSecond: number;
	p50: number;
	p99: number;
	requests: number;
	/** Responses other than 2xx, errors and timeouts: any of them spoils the run. */
	failures: number;
	/** The app process's CPU time per request answered (all its threads, garbage collection included). */
	appCpuMicros: number;
	/** The bench's own CPU time per request (autocannon building requests and reading answers). */
	clientCpuMicros: number;
}

export async function loadFor(target: Target, settings: LoadSettings, seconds = settings.seconds): Promise<LoadRun> {
	settings.signal.throwIfAborted();
	await target.beforeRun?.(seconds);
	if (settings.clientNetns) return loadFromNamespace(settings.clientNetns, target, settings, seconds);
	const requests = [{ setupRequest: cookiesInTurn(target.cookies ?? []) }];
	const appCpuBefore = target.appCpuMicros();
	const clientCpuBefore = process.cpuUsage();
	const result = await new Promise<autocannon.Result>((resolve, reject) => {
		const instance = autocannon(
			{ url: target.url, headers: BROWSER_HEADERS, requests, connections: settings.connections, duration: seconds },
			(error, finished) => {
				settings.signal.removeEventListener('abort', stop);
				if (error) reject(error);
				else resolve(finished);
			}
		);
		const stop = () => instance.stop();
		settings.signal.addEventListener('abort', stop, { once: true });
	});
	settings.signal.throwIfAborted();
	const answered = Math.max(1, result.requests.total);
	const appCpuMicros = (target.appCpuMicros() - appCpuBefore) / answered;
	const clientCpu = process.cpuUsage(clientCpuBefore);
	return {
		requestsPerSecond: result.requests.total / (result.duration || seconds),
		p50: result.latency.p50,
		p99: result.latency.p99,
		requests: result.requests.total,
		failures: result.non2xx + result.errors + result.timeouts,
		appCpuMicros,
		clientCpuMicros: (clientCpu.user + clientCpu.system) / answered
	};
}

/** loadFor's run made by load-client.ts in the network namespace `netns`. */
async function loadFromNamespace(
	netns: string,
	target: Target,
	settings: LoadSettings,
	seconds: number
): Promise<LoadRun> {
	const cookies = target.cookies ?? [];
	const run: ClientRun = {
		url: target.url,
		headers: BROWSER_HEADERS,
		connections: settings.connections,
		seconds,
		cookies,
		start: rotationPosition.get(cookies) ?? 0,
		delayMs: settings.clientDelayMs ?? 0
	};
	const appCpuBefore = target.appCpuMicros();
	const result = await new Promise<ClientResult>((resolve, reject) => {
		const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', LOAD_CLIENT], {
			stdio: ['pipe', 'pipe', 'inherit']
		});
		const output: Buffer[] = [];
		const stop = () => child.kill('SIGTERM');
		settings.signal.addEventListener('abort', stop, { once: true });
		child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
		child.once('error', reject);
		child.once('close', (code) => {
			settings.signal.removeEventListener('abort', stop);
			if (code !== 0) return reject(new Error(`the load client in netns ${netns} exited with ${code}`));
			resolve(JSON.parse(Buffer.concat(output).toString('utf8')) as ClientResult);
		});
		child.stdin.end(JSON.stringify(run));
	});
	settings.signal.throwIfAborted();
	rotationPosition.set(cookies, result.next);
	const answered = Math.max(1, result.requests);
	return {
		requestsPerSecond: result.requests / (result.duration || seconds),
		p50: result.p50,
		p99: result.p99,
		requests: result.requests,
		failures: result.failures,
		appCpuMicros: (target.appCpuMicros() - appCpuBefore) / answered,
		clientCpuMicros: result.cpuMicros / answered
	};
}

/**
 * Gives each request the next cookie. Requests in flight together then come from different
 * users, as on a real server: the same session in every request would flatter any saving made
 * per session. The rotation goes on from run to run (and from target to target sharing the same
 * cookies) instead of starting again at the first user: a run that restarted would send the
 * same first few thousand users every time, and a per-process cache of recent sessions would
 * answer them all. Anonymous targets go through it too: with a setupRequest autocannon builds
 * every request afresh, so the client's cost per request differs only by the cookie.
 */
function cookiesInTurn(cookies: string[]): (request: autocannon.Request) => autocannon.Request {
	return (request) => {
		if (cookies.length === 0) return request;
		const next = rotationPosition.get(cookies) ?? 0;
		rotationPosition.set(cookies, (next + 1) % cookies.length);
		return { ...request, headers: { ...request.headers, cookie: cookies[next]! } };
	};
}

/** Where each cookie list's rotation stands, across runs. */
const rotationPosition = new WeakMap<string[], number>();

/** The runs of one target, in the order made, and their medians. */
export interface LoadSeries {
	name: string;
	runs: LoadRun[];
	requestsPerSecond: number;
	p50: number;
	p99: number;
	appCpuMicros: number;
	clientCpuMicros: number;
	/** The lowest and highest req/s of the rounds, beside the median. */
	spread: Spread;
}

export interface Spread {
	min: number;
	max: number;
}

/**
 * Loads the targets in turn, round after round, so that drift in the machine's speed lands on
 * all of them alike, in the order roundOrder gives (A B C, C B A, …). Medians over the rounds drop
 * a round spoilt by a hiccup. A short warm-up per target first takes JIT compilation and cold
 * caches out of round one.
 */
export async function loadAlternately(
	targets: Target[],
	rounds: number,
	settings: LoadSettings
): Promise<LoadSeries[]> {
	for (const target of targets) await loadFor(target, settings, warmUpSeconds(settings));
	const runs = targets.map(() => [] as LoadRun[]);
	for (let round = 0; round < rounds; round++) {
		for (const [index, target] of roundOrder(targets, round)) {
			const run = await loadFor(target, settings);
			if (run.failures > 0) {
				throw new Error(`${target.name}: ${run.failures} of ${run.requests} requests failed or were not 2xx`);
			}
			runs[index]!.push(run);
		}
	}
	return targets.map((target, index) => summarize(target.name, runs[index]!));
}

/** Up to 2 s, and no more than half a run: short runs (--quick) keep their budget for the rounds. */
export function warmUpSeconds(settings: LoadSettings): number {
	return Math.min(2, settings.seconds / 2);
}

export function summarize(name: string, runs: LoadRun[]): LoadSeries {
	return {
		name,
		runs,
		requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
		p50: median(runs.map((run) => run.p50)),
		p99: median(runs.map((run) => run.p99)),
		appCpuMicros: median(runs.map((run) => run.appCpuMicros)),
		clientCpuMicros: median(runs.map((run) => run.clientCpuMicros)),
		spread: spreadOf(runs.map((run) => run.requestsPerSecond))
	};
}

export function spreadOf(values: number[]): Spread {
	return { min: Math.min(...values), max: Math.max(...values) };
}

/** a / b round by round (each round's pair measured back to back): the median and the spread. */
export interface Ratio extends Spread {
	median: number;
}

export function ratioOf(a: LoadSeries, b: LoadSeries, of: (run: LoadRun) => number): Ratio {
	const perRound = a.runs.map((run, round) => of(run) / of(b.runs[round]!));
	return { median: median(perRound), ...spreadOf(perRound) };
}

/** The median over rounds of a / b, each round's pair measured back to back. */
export function medianRatio(a: LoadSeries, b: LoadSeries, of: (run: LoadRun) => number): number {
	return ratioOf(a, b, of).median;
}
