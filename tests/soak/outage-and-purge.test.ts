import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { sessionRows as allSessionRows } from '../integration/support/rows';
import { get, isSignedIn, signIn } from './support/browser';
import { startSteadyLoad, type Sample } from './support/load';
import { createCluster, type Cluster } from './support/cluster';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';
import { createMariaDbServer, type OwnServer } from './support/mariadb-server';

const OUTAGE_USERS = 20;
const LOAD_LOOPS = 6;
const PROTECTED_PAGES = ['/account', '/account/sessions', '/account/security'];
/**
 * No request may take longer than this, outage or not. The pool gives up on a connection after
 * 5 s (db/index.ts) and a refused connection fails at once, so a longer wait would be a hang;
 * 5 s is also well inside the 30 s that proxies and load balancers commonly wait.
 */
const LATENCY_BOUND_MS = 5_000;
/** After the server is back, every user is signed in again within this, without an app restart. */
const RECOVERY_BOUND_MS = 10_000;
const FRIENDLY_PAGE = 'Latchkey is briefly unavailable';
/** Short, so that a query held up by a lock gives up quickly; the pages' own queries take milliseconds. */
const STATEMENT_TIMEOUT_SECONDS = 2;

type SessionRows = { total: number; ids: number; tokens: number; idList: string[] };

async function sessionRows(url: string): Promise<SessionRows> {
	const storage = openStorage(url);
	try {
		const rows = await allSessionRows(storage);
		const idList = rows.map((row) => row.id).sort();
		return {
			total: rows.length,
			ids: new Set(idList).size,
			tokens: new Set(rows.map((row) => row.token)).size,
			idList
		};
	} finally {
		await storage.close();
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

/** A server of the test's own per engine, and how to hold a table so that reading it waits. */
interface OutageCase {
	name: string;
	server(): Promise<OwnServer>;
	appPort: number;
	smtp: number;
	/** Another connection locks security_event against reads until the returned function runs. */
	holdSecurityEvents(url: string): Promise<() => Promise<void>>;
	/** The log line of a page whose statement the server cancelled at the statement timeout. */
	timedOut: RegExp;
}

const OUTAGES: OutageCase[] = [
	{
		name: 'PostgreSQL',
		server: async (): Promise<Cluster> => createCluster(5491),
		appPort: 4331,
		smtp: 2541,
		async holdSecurityEvents(url) {
			const locker = new pg.Client({ connectionString: url });
			await locker.connect();
			await locker.query('BEGIN');
			await locker.query('LOCK TABLE security_event IN ACCESS EXCLUSIVE MODE');
			return async () => {
				await locker.query('ROLLBACK');
				await locker.end();
			};
		},
		timedOut: /database unavailable: .*\(57014: canceling statement due to statement timeout\)/
	},
	{
		name: 'MariaDB',
		server: () => createMariaDbServer(3391),
		appPort: 4334,
		smtp: 2543,
		async holdSecurityEvents(url) {
			const locker = await mysql.createConnection({ uri: url });
			await locker.query('LOCK TABLES security_event WRITE');
			return async () => {
				await locker.query('UNLOCK TABLES');
				await locker.end();
			};
		},
		timedOut: /database unavailable: a MySQL statement ran past the statement timeout/
	}
];

describe.each(OUTAGES)('$name outage under steady signed-in load', (outage) => {
	let cluster: OwnServer;
	let mail: MailSink;
	let app: Instance;

	beforeAll(async () => {
		cluster = await outage.server();
		mail = await startMailSink(outage.smtp);
		app = await startInstance(outage.appPort, {
			DATABASE_URL: cluster.url,
			SMTP_URL: `smtp://127.0.0.1:${outage.smtp}`,
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
		const release = await outage.holdSecurityEvents(cluster.url);
		let held: { status: number; body: string; ms: number };
		try {
			const started = performance.now();
			const response = await get(app, '/account/security', cookie);
			held = { status: response.status, body: await response.text(), ms: Math.round(performance.now() - started) };
		} finally {
			await release();
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
		expect(app.output()).toMatch(outage.timedOut);
	});
});

/** Each engine's SQL for the seed: a row counter, text joined, and times relative to now. */
const PURGE_CASES = [
	{
		name: 'PostgreSQL',
		dialect: 'postgres' as const,
		ports: { seeding: 4332, app: 4333 },
		smtp: 2542,
		async query<T>(url: string, sql: string): Promise<T[]> {
			const client = new pg.Client({ connectionString: url });
			await client.connect();
			try {
				return (await client.query(sql)).rows as T[];
			} finally {
				await client.end();
			}
		},
		now: 'now()',
		numbered: (prefix: string, count: number) => ({
			id: `'${prefix}-' || n`,
			token: `md5('${prefix}' || n)`,
			from: `generate_series(1, ${count}) AS n`
		}),
		at: (days: number) => `now() ${days < 0 ? '-' : '+'} interval '${Math.abs(days)} days'`
	},
	{
		name: 'MariaDB',
		dialect: 'mysql' as const,
		ports: { seeding: 4335, app: 4336 },
		smtp: 2544,
		async query<T>(url: string, sql: string): Promise<T[]> {
			const client = await mysql.createConnection({ uri: url });
			try {
				return (await client.query(sql.replace(/"(\w+)"/g, '`$1`')))[0] as T[];
			} finally {
				await client.end();
			}
		},
		now: 'now(3)',
		// MariaDB's Sequence engine: seq_1_to_<n> is the numbers 1 … n.
		numbered: (prefix: string, count: number) => ({
			id: `CONCAT('${prefix}-', seq)`,
			token: `md5(CONCAT('${prefix}', seq))`,
			from: `seq_1_to_${count}`
		}),
		at: (days: number) => `now(3) ${days < 0 ? '-' : '+'} INTERVAL ${Math.abs(days)} DAY`
	}
];

describe.each(PURGE_CASES)('purging 100 000 expired sessions under load on $name', (engine) => {
	let scratch: ScratchDatabase;
	let mail: MailSink;
	let app: Instance;
	let url: string;

	beforeAll(async () => {
		scratch = await createScratchDatabase(engine.dialect);
		url = (scratch.target as { url: string }).url;
		mail = await startMailSink(engine.smtp);
		// The purge stays off until the rows are seeded: the instance below is started afterwards.
		const seeding = await startInstance(engine.ports.seeding, {
			DATABASE_URL: url,
			SMTP_URL: `smtp://127.0.0.1:${engine.smtp}`,
			PURGE_INTERVAL: 'off'
		});
		await seeding.stop();
	});

	afterAll(async () => {
		await app?.stop();
		await mail?.stop();
		await scratch?.drop();
	});

	const query = <T>(sql: string) => engine.query<T>(url, sql);

	async function count(where: string): Promise<number> {
		const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM session WHERE ${where}`);
		return Number(row!.n);
	}

	it('deletes every expired row, keeps every live one, and requests meanwhile all succeed', async () => {
		const now = engine.now;
		await query(`INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at)
			VALUES ('seed-user', '', 'seed@example.com', true, ${now}, ${now})`);
		const seed = (days: number, count: number, prefix: string) => {
			const row = engine.numbered(prefix, count);
			return query(`INSERT INTO session (id, user_id, token, expires_at, created_at, updated_at, policy, idle_seconds,
				refresh_seconds, persistent)
				SELECT ${row.id}, 'seed-user', ${row.token}, ${engine.at(days)}, ${now}, ${now}, 'standard', 604800, 86400, true
				FROM ${row.from}`);
		};
		await seed(-1, 100_000, 'expired');
		await seed(7, 1_000, 'live');

		app = await startInstance(engine.ports.app, {
			DATABASE_URL: url,
			SMTP_URL: `smtp://127.0.0.1:${engine.smtp}`,
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
