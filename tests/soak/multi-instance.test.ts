import { readdirSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, openStorage, type Storage } from '../../src/lib/server/db';
import { createScratchDatabase, type Dialect, type ScratchDatabase } from '../integration/support/databases';
import { tableNames } from '../integration/support/rows';
import { get, isSignedIn, post, signIn } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let emails = 0;
const newEmail = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++emails}@example.com`;

/** The id of the session behind a cookie, read from the shared database. */
async function sessionIdOf(storage: Storage, cookie: string): Promise<string> {
	const token = decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;
	return (await storage.sessions.findByToken(token))!.session.id;
}

/** How many migrations the database records as applied, in the migrator's own table. */
async function appliedMigrations(storage: Storage): Promise<number> {
	const database = connectionOf(storage);
	if (database.dialect === 'postgres') {
		const result = await database.client.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
		return Number(result.rows[0]!.n);
	}
	if (database.dialect === 'mysql') {
		const [rows] = await database.client.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
		return Number(rows[0]!.n);
	}
	throw new Error(`no server engine: ${database.dialect}`);
}

describe.each([
	{ name: 'PostgreSQL', dialect: 'postgres' as Dialect, redis: false, ports: [4311, 4312], smtp: 2531 },
	{ name: 'PostgreSQL and Redis', dialect: 'postgres' as Dialect, redis: true, ports: [4313, 4314], smtp: 2532 },
	{ name: 'MariaDB', dialect: 'mysql' as Dialect, redis: false, ports: [4315, 4316], smtp: 2534 }
])('two instances on $name', ({ dialect, redis, ports, smtp }) => {
	let scratch: ScratchDatabase;
	let storage: Storage;
	let mail: MailSink;
	let a: Instance;
	let b: Instance;
	let url: string;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		url = (scratch.target as { url: string }).url;
		storage = openStorage(scratch.target);
		mail = await startMailSink(smtp);
		const env = {
			DATABASE_URL: url,
			SMTP_URL: `smtp://127.0.0.1:${smtp}`,
			PURGE_INTERVAL: 'off',
			// The per-IP counters (127.0.0.1) outlive a run in the shared Redis and add up over
			// repeated runs; these tests are about the per-email limit.
			OTP_SEND_LIMIT_PER_IP: '100000',
			OTP_VERIFY_LIMIT_PER_IP: '100000',
			...(redis ? { REDIS_URL } : {})
		};
		[a, b] = await Promise.all([startInstance(ports[0]!, env), startInstance(ports[1]!, env)]);
	});

	afterAll(async () => {
		await Promise.all([a?.stop(), b?.stop()]);
		await storage?.close();
		await mail?.stop();
		await scratch?.drop();
	});

	it('a cookie from A works on B; sign out everywhere on B signs A out on its next request', async () => {
		const email = newEmail('everywhere');
		const first = await signIn(a, mail, email);
		const second = await signIn(a, mail, email);
		expect(await isSignedIn(b, first)).toBe(true);
		expect(await isSignedIn(a, second)).toBe(true);

		const response = await post(b, '/account/sessions?/signOutEverywhere', {}, first);
		expect(response.status).toBe(303);
		expect(response.headers.get('location')).toBe('/login?signedOutEverywhere');

		expect(await isSignedIn(a, first)).toBe(false);
		expect(await isSignedIn(a, second)).toBe(false);
		expect(await isSignedIn(b, second)).toBe(false);
	});

	it('revoking one device on B signs it out on A at once, and leaves the other device in', async () => {
		const email = newEmail('revoke');
		const laptop = await signIn(a, mail, email);
		const phone = await signIn(b, mail, email);
		const response = await post(
			b,
			'/account/sessions?/revoke',
			{ sessionId: await sessionIdOf(storage, phone) },
			laptop
		);
		expect(response.status).toBe(200);
		expect(await isSignedIn(a, phone)).toBe(false);
		expect(await isSignedIn(a, laptop)).toBe(true);
		expect(await isSignedIn(b, laptop)).toBe(true);
	});

	it('OTP sends for one email spread over A and B stop at the published limit of 5', async () => {
		const email = newEmail('limit');
		const statuses: number[] = [];
		for (let attempt = 0; attempt < 8; attempt++) {
			const instance = attempt % 2 === 0 ? a : b;
			statuses.push((await post(instance, '/login?/sendCode', { email })).status);
		}
		console.log(`OTP sends across two instances (${redis ? 'Redis' : 'database'} counters): ${statuses.join(' ')}`);
		expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
	});

	it('/healthz reports every dependency and is never cached', async () => {
		const response = await get(a, '/healthz');
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual(redis ? { db: 'ok', redis: 'ok' } : { db: 'ok' });
		expect(response.headers.get('cache-control')).toBe('no-store');
	});
});

describe.each([
	{ name: 'PostgreSQL', dialect: 'postgres' as Dialect, ports: [4321, 4322, 4323], smtp: 2533 },
	{ name: 'MariaDB', dialect: 'mysql' as Dialect, ports: [4324, 4325, 4326], smtp: 2535 }
])('three instances started together on an empty $name database', ({ dialect, ports, smtp }) => {
	let scratch: ScratchDatabase;
	const instances: Instance[] = [];

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
	});

	afterAll(async () => {
		await Promise.all(instances.map((instance) => instance.stop()));
		await scratch?.drop();
	});

	it('migrate the schema once and all serve', async () => {
		const url = (scratch.target as { url: string }).url;
		const env = { DATABASE_URL: url, SMTP_URL: `smtp://127.0.0.1:${smtp}`, PURGE_INTERVAL: 'off' };
		instances.push(...(await Promise.all(ports.map((port) => startInstance(port, env)))));
		for (const instance of instances) expect((await get(instance, '/login')).status).toBe(200);

		const storage = openStorage(scratch.target);
		let applied: number;
		let tables: string[];
		try {
			applied = await appliedMigrations(storage);
			tables = await tableNames(storage);
		} finally {
			await storage.close();
		}
		const migrations = readdirSync(`drizzle/${dialect}`).filter((file) => file.endsWith('.sql')).length;
		console.log(`concurrent start: ${instances.length} instances, ${applied} migrations applied of ${migrations}`);
		expect(applied).toBe(migrations);
		expect(tables).toContain('session');
	});
});
