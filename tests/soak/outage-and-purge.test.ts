import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { get, isSignedIn, signIn } from './support/browser';
import { createCluster, type Cluster } from './support/cluster';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

describe('health while PostgreSQL goes away and comes back', () => {
	let cluster: Cluster;
	let mail: MailSink;
	let app: Instance;

	beforeAll(async () => {
		cluster = createCluster(5491);
		mail = await startMailSink(2541);
		app = await startInstance(4331, {
			DATABASE_URL: cluster.url,
			SMTP_URL: 'smtp://127.0.0.1:2541',
			PURGE_INTERVAL: 'off'
		});
	});

	afterAll(async () => {
		await app?.stop();
		await mail?.stop();
		cluster?.destroy();
	});

	it('/healthz flips to 503 and pages answer 503, then both recover without a restart', async () => {
		const cookie = await signIn(app, mail, 'outage@example.com');
		expect((await get(app, '/healthz')).status).toBe(200);

		cluster.stop();
		const health = await get(app, '/healthz');
		expect(health.status).toBe(503);
		expect(await health.json()).toEqual({ db: 'down' });
		const started = Date.now();
		const page = await get(app, '/account', cookie);
		console.log(`database down: /healthz ${health.status}, /account ${page.status} in ${Date.now() - started} ms`);
		expect(page.status).toBe(503);
		expect(await page.text()).toContain('Latchkey is briefly unavailable');

		cluster.start();
		let recovered = 0;
		for (let attempt = 0; attempt < 50 && recovered !== 200; attempt++) {
			recovered = (await get(app, '/healthz')).status;
			if (recovered !== 200) await sleep(200);
		}
		expect(recovered).toBe(200);
		expect(await isSignedIn(app, cookie)).toBe(true);
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
