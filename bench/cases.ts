import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberedPlaceholders, type Database } from '../src/lib/server/db';
import { startBenchApp, type BenchApp } from './app';
import { loadAlternately, loadFor, medianRatio, summarize, type LoadRun, type LoadSettings, type Target } from './load';
import { median } from './measure';
import { analyze, seedPopulation, seedSessions, seedUsers, uniquePrefix } from './seed';
import type { Dialect } from './scratch';

/** One line of the table: what was measured, against which target, and whether it met it. */
export interface Check {
	dialect: Dialect;
	line: string;
	result: string;
	target: string;
	/** null: reported for information, no target. */
	pass: boolean | null;
	/** The raw figures behind the line, for bench/results/latest.json. */
	figures: Record<string, unknown>;
}

export interface CaseSettings extends LoadSettings {
	rounds: number;
	progress: (message: string) => void;
}

/** Protected/public throughput each dialect must keep (the targets). */
export const MIN_RATIO: Record<Dialect, number> = { sqlite: 0.85, postgres: 0.7 };
export const MAX_P99_RATIO = 1.5;
export const MAX_RATIO_DRIFT = 0.05;
export const MAX_SIGN_OUT_EVERYWHERE_MS = 200;
export const SIGN_OUT_EVERYWHERE_SESSIONS = 10_000;
export const MAX_PURGE_P99_RATIO = 2;
export const PURGED_ROWS = 1_000_000;
/** Each purge round adds and deletes a million rows (a minute or two): more rounds cost more than they tell. */
export const MAX_PURGE_ROUNDS = 3;

const PORTS = { pages: 4500, signOut: 4510, purge: 4511 };
/** Signed-in users whose cookies a signed-in target sends in turn: more than there are connections. */
const SIGNED_IN_USERS = 100;

/**
 * Cases 1–3 on databases of each size, all loaded in turn in every round so the sizes see the
 * same machine: the public page (/) anonymous and with a valid session — the same page, so the
 * difference is what being signed in costs: the session check, plus the signed-in navigation —
 * and the protected page (/account), whose own content adds more rendering. With `refreshDue`,
 * a session that slides on every request (on the smallest database) joins the rotation.
 */
export async function comparePages(
	dialect: Dialect,
	sizes: number[],
	refreshDue: boolean,
	settings: CaseSettings
): Promise<Check[]> {
	const apps: BenchApp[] = [];
	try {
		for (const [index, size] of sizes.entries()) {
			settings.progress(`${dialect}: seeding ${size.toLocaleString('en')} sessions`);
			// The signed-in users' own sessions are among the `size` rows.
			const seed = (db: Database) => seedPopulation(db, Math.max(0, size - SIGNED_IN_USERS));
			apps.push(await startBenchApp({ dialect, port: PORTS.pages + index, seed }));
		}
		const targets = await Promise.all(apps.map((app, index) => pageTargets(app, sizes[index]!)));
		const worstCase = refreshDue ? await refreshDueTarget(apps[0]!) : null;
		const rotation = [...targets.flat(), ...(worstCase ? [worstCase] : [])];
		settings.progress(
			`${dialect}: ${rotation.length} targets × ${settings.rounds} rounds × ${settings.seconds} s, alternating`
		);
		const series = await loadAlternately(rotation, settings.rounds, settings);
		const byName = new Map(series.map((one) => [one.name, one]));
		const checks = sizes.flatMap((size) => pageChecks(dialect, size, byName));
		if (sizes.length > 1) checks.push(sizeDriftCheck(dialect, sizes, byName));
		if (worstCase) checks.push(refreshDueCheck(dialect, sizes[0]!, byName));
		return checks;
	} finally {
		for (const app of apps) await app.stop();
	}
}

async function pageTargets(app: BenchApp, size: number): Promise<Target[]> {
	const cookies = await signedInCookies(app, { signedIn: true, reissued: false });
	return [
		targetOn(app, `anonymous@${size}`, app.publicUrl),
		targetOn(app, `signed-in@${size}`, app.publicUrl, cookies),
		targetOn(app, `account@${size}`, app.protectedUrl, cookies)
	];
}

async function refreshDueTarget(app: BenchApp): Promise<Target> {
	const cookies = await signedInCookies(app, { signedIn: true, reissued: true }, { refreshDue: true });
	return targetOn(app, 'refresh-due', app.publicUrl, cookies);
}

/** A page of `app` to load; the app's CPU time is read around every run. */
function targetOn(app: BenchApp, name: string, url: string, cookies?: string[]): Target {
	return { name, url, cookies, appCpuMicros: app.instance.cpuMicros };
}

/** SIGNED_IN_USERS new users' cookies, each checked to get what the target expects of it. */
async function signedInCookies(
	app: BenchApp,
	expected: { signedIn: boolean; reissued: boolean },
	options: { refreshDue?: boolean } = {}
): Promise<string[]> {
	const cookies: string[] = [];
	for (let user = 0; user < SIGNED_IN_USERS; user++) {
		const { cookie } = await app.signIn(options);
		await expectPage(app.protectedUrl, cookie, expected);
		cookies.push(cookie);
	}
	return cookies;
}

/** A bench that loads the sign-in page by mistake measures nothing: check what the cookie gets first. */
async function expectPage(url: string, cookie: string, expected: { signedIn: boolean; reissued: boolean }) {
	const response = await fetch(url, { headers: { cookie }, redirect: 'manual' });
	const reissued = response.headers.getSetCookie().length > 0;
	if ((response.status === 200) !== expected.signedIn || reissued !== expected.reissued) {
		throw new Error(
			`${url} answered ${response.status}${reissued ? ' with' : ' without'} Set-Cookie; expected ${expected.signedIn ? 200 : 'a redirect'}${expected.reissued ? ' with' : ' without'} it`
		);
	}
}

type SeriesByName = Map<string, ReturnType<typeof summarize>>;

function throughputRatio(byName: SeriesByName, name: string, size: number): number {
	return medianRatio(byName.get(`${name}@${size}`)!, byName.get(`anonymous@${size}`)!, (run) => run.requestsPerSecond);
}

function pageChecks(dialect: Dialect, size: number, byName: SeriesByName): Check[] {
	const anonymous = byName.get(`anonymous@${size}`)!;
	const signedIn = byName.get(`signed-in@${size}`)!;
	const account = byName.get(`account@${size}`)!;
	const ratio = throughputRatio(byName, 'signed-in', size);
	const p99Ratio = medianRatio(signedIn, anonymous, (run) => run.p99);
	const accountRatio = throughputRatio(byName, 'account', size);
	const accountP99Ratio = medianRatio(account, anonymous, (run) => run.p99);
	return [
		{
			dialect,
			line: `signed-in/anonymous req/s on /, ${formatCount(size)} sessions`,
			result: `${ratio.toFixed(2)} (${rate(signedIn)} vs ${rate(anonymous)} req/s; p50 ${signedIn.p50} vs ${anonymous.p50} ms; app CPU ${cpu(signedIn)} vs ${cpu(anonymous)} µs/req)`,
			target: `≥ ${MIN_RATIO[dialect].toFixed(2)}`,
			pass: ratio >= MIN_RATIO[dialect],
			figures: { size, anonymous, signedIn, ratio, p99Ratio }
		},
		{
			dialect,
			line: `p99 signed-in/anonymous on /, ${formatCount(size)} sessions`,
			result: `${p99Ratio.toFixed(2)}× (${signedIn.p99} vs ${anonymous.p99} ms)`,
			target: `≤ ${MAX_P99_RATIO}×`,
			pass: p99Ratio <= MAX_P99_RATIO,
			figures: { size, p99Ratio }
		},
		{
			dialect,
			line: `/account vs anonymous /, ${formatCount(size)} sessions`,
			result: `${accountRatio.toFixed(2)} (${rate(account)} req/s; app CPU ${cpu(account)} µs/req), p99 ${accountP99Ratio.toFixed(2)}× (${account.p99} ms)`,
			target: 'none: reported',
			pass: null,
			figures: { size, account, ratio: accountRatio, p99Ratio: accountP99Ratio }
		}
	];
}

function sizeDriftCheck(dialect: Dialect, sizes: number[], byName: SeriesByName): Check {
	const ratioAt = (size: number) => throughputRatio(byName, 'signed-in', size);
	const smallest = Math.min(...sizes);
	const largest = Math.max(...sizes);
	const drift = ratioAt(largest) / ratioAt(smallest) - 1;
	return {
		dialect,
		line: `signed-in ratio at ${formatCount(largest)} vs ${formatCount(smallest)} sessions`,
		result: `${ratioAt(largest).toFixed(2)} vs ${ratioAt(smallest).toFixed(2)} (${signedPercent(drift)})`,
		target: `within ${MAX_RATIO_DRIFT * 100}%`,
		pass: Math.abs(drift) <= MAX_RATIO_DRIFT,
		figures: { smallest, largest, drift }
	};
}

function refreshDueCheck(dialect: Dialect, size: number, byName: SeriesByName): Check {
	const worstCase = byName.get('refresh-due')!;
	const anonymous = byName.get(`anonymous@${size}`)!;
	const ratio = medianRatio(worstCase, anonymous, (run) => run.requestsPerSecond);
	return {
		dialect,
		line: 'refresh due on every request (worst case, /)',
		result: `${ratio.toFixed(2)} of anonymous (${rate(worstCase)} req/s; p50 ${worstCase.p50}, p99 ${worstCase.p99} ms; app CPU ${cpu(worstCase)} µs/req)`,
		target: 'none: reported',
		pass: null,
		figures: { size, refreshDue: worstCase, ratio }
	};
}

/** Case 4: one POST of the sign-out-everywhere form by a user with 10 000 sessions, timed end to end. */
export async function signOutEverywhere(dialect: Dialect, settings: CaseSettings): Promise<Check[]> {
	const app = await startBenchApp({ dialect, port: PORTS.signOut, seed: (db) => seedPopulation(db, 1000) });
	try {
		const timings: number[] = [];
		for (let round = 0; round < settings.rounds; round++) {
			settings.signal.throwIfAborted();
			timings.push(await timeSignOutEverywhere(app));
		}
		const ms = median(timings);
		return [
			{
				dialect,
				line: `sign out everywhere, ${formatCount(SIGN_OUT_EVERYWHERE_SESSIONS)} sessions`,
				result: `${ms.toFixed(0)} ms (median of ${timings.map((t) => t.toFixed(0)).join(', ')})`,
				target: `< ${MAX_SIGN_OUT_EVERYWHERE_MS} ms`,
				pass: ms < MAX_SIGN_OUT_EVERYWHERE_MS,
				figures: { sessions: SIGN_OUT_EVERYWHERE_SESSIONS, timingsMs: timings }
			}
		];
	} finally {
		await app.stop();
	}
}

async function timeSignOutEverywhere(app: BenchApp): Promise<number> {
	const { userId, cookie } = await app.signIn();
	await seedSessions(app.database, {
		count: SIGN_OUT_EVERYWHERE_SESSIONS - 1,
		owners: { userId },
		expiresAt: Date.now() + 86_400_000
	});
	await analyze(app.database);
	const started = performance.now();
	const response = await fetch(`${app.instance.origin}/account/sessions?/signOutEverywhere`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: app.instance.origin,
			cookie,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded'
		},
		body: ''
	});
	const ms = performance.now() - started;
	const left = await sessionCount(app.database, userId);
	if (response.status !== 303 || left !== 0) {
		throw new Error(`sign out everywhere answered ${response.status} and left ${left} sessions`);
	}
	return ms;
}

/**
 * Case 5: p99 of signed-in requests while the server's own scheduled purge deletes 1 000 000
 * expired rows, against rounds without. The rows are added between rounds, not timed; the
 * round with the purge counts only if the purge was still running when it ended.
 */
export async function purgeUnderLoad(dialect: Dialect, settings: CaseSettings): Promise<Check[]> {
	const owners = { prefix: uniquePrefix(), users: 1000 };
	const app = await startBenchApp({
		dialect,
		port: PORTS.purge,
		seed: async (db) => {
			await seedPopulation(db, 1000);
			await seedUsers(db, owners.prefix, owners.users);
		},
		// Every second, so a purge starts as soon as the expired rows are there.
		env: { PURGE_INTERVAL: '1s' }
	});
	try {
		const cookies = await signedInCookies(app, { signedIn: true, reissued: false });
		const target = targetOn(app, 'authenticated', app.protectedUrl, cookies);
		await loadFor(target, settings, Math.min(2, settings.seconds));
		const without: LoadRun[] = [];
		const during: LoadRun[] = [];
		const purgeMs: number[] = [];
		for (let round = 0; round < Math.min(settings.rounds, MAX_PURGE_ROUNDS); round++) {
			without.push(await loadFor(target, settings));
			settings.progress(`${dialect}: adding ${formatCount(PURGED_ROWS)} expired sessions`);
			const mark = app.instance.output().length;
			await seedSessions(app.database, { count: PURGED_ROWS, owners, expiresAt: Date.now() - 60_000 });
			during.push(await loadFor(target, settings));
			if (purgeResult(app, mark)) {
				throw new Error(
					`the purge of ${formatCount(PURGED_ROWS)} rows finished within the ${settings.seconds} s window: measure with fewer --seconds`
				);
			}
			purgeMs.push((await purgeFinished(app, mark, settings.signal)).ms);
		}
		const rounds = { without: summarize('without purge', without), during: summarize('during purge', during) };
		const p99Ratio = medianRatio(rounds.during, rounds.without, (run) => run.p99);
		return [
			{
				dialect,
				line: `p99 during a purge of ${formatCount(PURGED_ROWS)} rows`,
				result: `${p99Ratio.toFixed(2)}× (${rounds.during.p99} vs ${rounds.without.p99} ms; purge took ${(median(purgeMs) / 1000).toFixed(1)} s)`,
				target: `≤ ${MAX_PURGE_P99_RATIO}×`,
				pass: p99Ratio <= MAX_PURGE_P99_RATIO,
				figures: { ...rounds, p99Ratio, purgeMs }
			}
		];
	} finally {
		await app.stop();
	}
}

interface PurgeLine {
	sessions: number;
	ms: number;
}

/** The server's `sessions.purged` log line for a purge that deleted rows, printed after `mark`. */
function purgeResult(app: BenchApp, mark: number): PurgeLine | null {
	for (const line of app.instance.output().slice(mark).split('\n')) {
		if (!line.includes('"event":"sessions.purged"')) continue;
		const parsed = JSON.parse(line) as PurgeLine;
		if (parsed.sessions > 0) return parsed;
	}
	return null;
}

async function purgeFinished(app: BenchApp, mark: number, signal: AbortSignal): Promise<PurgeLine> {
	const deadline = Date.now() + 10 * 60_000;
	while (Date.now() < deadline) {
		signal.throwIfAborted();
		const result = purgeResult(app, mark);
		if (result) return result;
		await sleep(250);
	}
	throw new Error('the purge did not finish within 10 minutes');
}

async function sessionCount(database: Database, userId: string): Promise<number> {
	const sql = 'SELECT count(*) AS n FROM session WHERE user_id = ?';
	if (database.dialect === 'sqlite') {
		return database.client.prepare<[string], { n: number }>(sql).get(userId)!.n;
	}
	return Number((await database.client.query<{ n: string }>(numberedPlaceholders(sql), [userId])).rows[0]!.n);
}

function rate(series: { requestsPerSecond: number }): string {
	return series.requestsPerSecond.toFixed(0);
}

function cpu(series: { appCpuMicros: number }): string {
	return Number.isNaN(series.appCpuMicros) ? 'n/a' : series.appCpuMicros.toFixed(0);
}

function formatCount(n: number): string {
	return n.toLocaleString('en').replace(/,/g, ' ');
}

function signedPercent(fraction: number): string {
	return `${fraction >= 0 ? '+' : '−'}${Math.abs(fraction * 100).toFixed(1)}%`;
}
