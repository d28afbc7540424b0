import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { get, isSignedIn, signIn } from './support/browser';
import { startSteadyLoad, type Sample } from './support/load';
import { createCluster, type Cluster } from './support/cluster';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const OUTAGE_USERS = 20;
const LOAD_LOOPS = 6;
const PROTECTED_PAGES = ['/account', '/account/sessions', '/account/security'];
/**
 * No request may take longer than this, outage or not. The pool gives up on a connection after
 * 5 s (db/index.ts) and a refused connection fails at once, so a longer wait would be a hang;
 * 5 s is also well inside the 30 s that proxies and load balancers commonly wait.
 */
const LATENCY_BOUND_MS = 5_000;
/** After PostgreSQL is back, every user is signed in again within this, without an app restart. */
const RECOVERY_BOUND_MS = 10_000;
const FRIENDLY_PAGE = 'Latchkey is briefly unavailable';
/** Short, so that a query held up by a lock gives up quickly; the pages' own queries take milliseconds. */
const STATEMENT_TIMEOUT_SECONDS = 2;

type SessionRows = { total: number; ids: number; tokens: number; idList: string[] };

async function sessionRows(url: string): Promise<SessionRows> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const [counts] = (
			await client.query<{ total: string; ids: string; tokens: string }>(
				'SELECT count(*) AS total, count(DISTINCT id) AS ids, count(DISTINCT token) AS tokens FROM session'
			)
		).rows;
		const ids = await client.query<{ id: string }>('SELECT id FROM session ORDER BY id');
		return {
			total: Number(counts!.total),
			ids: Number(counts!.ids),
			tokens: Number(counts!.tokens),
			idList: ids.rows.map((row) => row.id)
		};
	} finally {
		await client.end();
	}
}

async function within<T>(boundMs: number, attempt: () => Promise<T | null>): Promise<T | null> {
	const deadline = Date.now() + boundMs;
	while (Date.now() < deadline) {
		const result = await attempt();
		if (result !== null) return result;
		await sleep(100);
	}
	return null;
}

function statuses(samples: Sample[]): string {
	const counts: Record<number, number> = {};
	for (const { status } of samples) counts[status] = (counts[status] ?? 0) + 1;
	return JSON.stringify(counts);
}

const countOf = (samples: Sample[], where: (sample: Sample) => boolean) => samples.filter(where).length;
const isFriendly503 = (sample: Sample) => sample.status === 503 && sample.body.includes(FRIENDLY_PAGE);

describe('PostgreSQL outage under steady signed-in load', () => {
	let cluster: Cluster;
	let mail: MailSink;
	let app: Instance;

	beforeAll(async () => {
		cluster = createCluster(5491);
		mail = await startMailSink(2541);
		app = await startInstance(4331, {
			DATABASE_URL: cluster.url,
			SMTP_URL: 'smtp://127.0.0.1:2541',
			PURGE_INTERVAL: 'off',
			OTP_SEND_LIMIT_PER_IP: '1000',
			OTP_VERIFY_LIMIT_PER_IP: '1000',
			DATABASE_STATEMENT_TIMEOUT: `${STATEMENT_TIMEOUT_SECONDS}s`
		});
	});

	afterAll(async () => {
		await app?.stop();
		await mail?.stop();
		cluster?.destroy();
	});

	it(`${OUTAGE_USERS} users, ${LOAD_LOOPS} loops: 503 with the friendly page while down, no hang, recovery without a restart, no session row lost`, async () => {
		const existing = (await sessionRows(cluster.url)).total;
		const cookies: string[] = [];
		for (let user = 0; user < OUTAGE_USERS; user++) cookies.push(await signIn(app, mail, `outage-${user}@example.com`));
		const before = await sessionRows(cluster.url);

		let stage = 'before';
		const load = startSteadyLoad(app, cookies, {
			loops: LOAD_LOOPS,
			paths: PROTECTED_PAGES,
			abortAfterMs: LATENCY_BOUND_MS * 4,
			stage: () => stage
		});
		await sleep(2_000);

		stage = 'stopping';
		await cluster.stopInBackground();
		stage = 'down';
		const health = await get(app, '/healthz');
		const healthBody = await health.json();
		await sleep(4_000);

		stage = 'starting';
		await cluster.startInBackground();
		stage = 'recovering';
		const restarted = Date.now();
		const recovered = await within(RECOVERY_BOUND_MS, async () => {
			if ((await get(app, '/healthz')).status !== 200) return null;
			const signedIn = await Promise.all(cookies.map((cookie) => isSignedIn(app, cookie).catch(() => false)));
			return signedIn.every(Boolean) ? Date.now() - restarted : null;
		});
		stage = 'recovered';
		await sleep(2_000);
		await load.stop();
		const after = await sessionRows(cluster.url);

		const samples = load.samples;
		const steady = (name: string) => samples.filter((s) => s.startedIn === name && s.endedIn === name);
		const other5xx = countOf(samples, (s) => s.status >= 500 && s.status !== 503);
		const unanswered = countOf(samples, (s) => s.status === 0);
		const maxLatency = Math.round(Math.max(...samples.map((s) => s.ms)));
		// Requests whose session check passed and whose page then lost the database (hooks.server.ts).
		const lostMidRequest = app
			.output()
			.split('\n')
			.filter((line) => line.includes('database unavailable:')).length;
		console.log(
			`outage: ${samples.length} requests, ${other5xx} 5xx other than 503, ${unanswered} unanswered, max latency ${maxLatency} ms, ` +
				`sessions before ${before.total} after ${after.total} (distinct ids ${after.ids}, tokens ${after.tokens}); ` +
				`before ${statuses(steady('before'))}, down ${statuses(steady('down'))}, after ${statuses(steady('recovered'))}, ` +
				`all ${statuses(samples)}; ${lostMidRequest} lost the database mid-request; /healthz while down ${health.status}; signed in again ${recovered ?? 'never'} ms after the restart`
		);

		expect(steady('before').length).toBeGreaterThan(10);
		expect(countOf(steady('before'), (s) => s.status !== 200)).toBe(0);
		expect(steady('down').length).toBeGreaterThan(10);
		expect(countOf(steady('down'), (s) => !isFriendly503(s))).toBe(0);
		expect(health.status).toBe(503);
		expect(healthBody).toEqual({ db: 'down' });
		expect(other5xx).toBe(0);
		expect(unanswered).toBe(0);
		// Whatever the moment, a request is served or answered with the friendly 503: never sent to sign in.
		expect(countOf(samples, (s) => s.status !== 200 && !isFriendly503(s))).toBe(0);
		expect(maxLatency).toBeLessThan(LATENCY_BOUND_MS);
		expect(recovered).not.toBeNull();
		expect(steady('recovered').length).toBeGreaterThan(10);
		expect(countOf(steady('recovered'), (s) => s.status !== 200)).toBe(0);
		expect(before.total).toBe(existing + OUTAGE_USERS);
		expect(after).toEqual(before);
		expect(after.ids).toBe(after.total);
		expect(after.tokens).toBe(after.total);
	});

	it('a page whose query is held past the statement timeout answers the friendly 503, then serves again', async () => {
		const cookie = await signIn(app, mail, 'statement-timeout@example.com');
		const locker = new pg.Client({ connectionString: cluster.url });
		await locker.connect();
		let held: { status: number; body: string; ms: number };
		try {
			await locker.query('BEGIN');
			await locker.query('LOCK TABLE security_event IN ACCESS EXCLUSIVE MODE');
			const started = performance.now();
			const response = await get(app, '/account/security', cookie);
			held = { status: response.status, body: await response.text(), ms: Math.round(performance.now() - started) };
		} finally {
			await locker.query('ROLLBACK');
			await locker.end();
		}
		const released = await get(app, '/account/security', cookie);
		console.log(
			`statement timeout (${STATEMENT_TIMEOUT_SECONDS} s): /account/security ${held.status} in ${held.ms} ms while locked, ${released.status} once released`
		);
		expect(held.status).toBe(503);
		expect(held.body).toContain(FRIENDLY_PAGE);
		expect(held.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_SECONDS * 1000 - 100);
		expect(held.ms).toBeLessThan(LATENCY_BOUND_MS);
		expect(released.status).toBe(200);
		expect(app.output()).toMatch(/database unavailable: .*\(57014: canceling statement due to statement timeout\)/);
	});
});

describe('purging 100 000 expired sessions under load', () => {
	let scratch: ScratchDatabase;
	let mail: MailSink;
	let app: Instance;
	let url: string;

	beforeAll(async () => {
		scratch = await createScratchDatabase('postgres');
		url = (scratch.target as { url: string }).url;
		mail = await startMailSink(2542);
		// The purge stays off until the rows are seeded: the instance below is started afterwards.
		const seeding = await startInstance(4332, {
			DATABASE_URL: url,
			SMTP_URL: 'smtp://127.0.0.1:2542',
			PURGE_INTERVAL: 'off'
		});
		await seeding.stop();
	});

	afterAll(async () => {
		await app?.stop();
		await mail?.stop();
		await scratch?.drop();
	});

	async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		try {
			return (await client.query<T>(sql)).rows;
		} finally {
			await client.end();
		}
	}

	async function count(where: string): Promise<number> {
		const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM session WHERE ${where}`);
		return Number(row!.n);
	}

	it('deletes every expired row, keeps every live one, and requests meanwhile all succeed', async () => {
		await query(`INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at)
			VALUES ('seed-user', '', 'seed@example.com', true, now(), now())`);
		const seed = (expires: string, count: number, prefix: string) =>
			query(`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, policy, idle_seconds,
				refresh_seconds, persistent)
				SELECT '${prefix}-' || n, 'seed-user', md5('${prefix}' || n), ${expires}, now(), now(), 'standard', 604800, 86400, true
				FROM generate_series(1, ${count}) AS n`);
		await seed("now() - interval '1 day'", 100_000, 'expired');
		await seed("now() + interval '7 days'", 1_000, 'live');

		app = await startInstance(4333, {
			DATABASE_URL: url,
			SMTP_URL: 'smtp://127.0.0.1:2542',
			PURGE_INTERVAL: '1s',
			PURGE_BATCH_SIZE: '2000'
		});
		const cookie = await signIn(app, mail, 'load@example.com');

		const statuses = new Map<number, number>();
		let purged = false;
		const load = (async () => {
			while (!purged) {
				const status = (await get(app, '/account', cookie)).status;
				statuses.set(status, (statuses.get(status) ?? 0) + 1);
			}
		})();
		const deadline = Date.now() + 90_000;
		while (Date.now() < deadline) {
			if ((await count("id LIKE 'expired-%'")) === 0) break;
			await sleep(250);
		}
		purged = true;
		await load;

		const expired = await count("id LIKE 'expired-%'");
		const live = await count("id LIKE 'live-%'");
		const requests = [...statuses.values()].reduce((sum, n) => sum + n, 0);
		console.log(
			`purge under load: expired left ${expired}, live kept ${live}/1000, ${requests} requests: ${JSON.stringify(Object.fromEntries(statuses))}`
		);
		expect(expired).toBe(0);
		expect(live).toBe(1_000);
		expect([...statuses.keys()]).toEqual([200]);
		expect(requests).toBeGreaterThan(10);
		// Each run logs once it has also cleared codes and rate-limit windows, just after its last batch.
		const purgedByLog = () =>
			[...app.output().matchAll(/"event":"sessions\.purged","sessions":(\d+)/g)].reduce(
				(sum, [, n]) => sum + Number(n),
				0
			);
		for (let attempt = 0; attempt < 50 && purgedByLog() < 100_000; attempt++) await sleep(100);
		expect(purgedByLog()).toBe(100_000);
	});
});
