import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/lib/server/db';
import { sessionRows, updateSessionRow } from '../integration/support/rows';
import { readOnlyWhenOpened, SQLITE_FAULTS, type SqliteFault } from '../integration/support/sqlite-faults';
import { CookieJar, get, post, signIn } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000;
/** Two writes (a sign-in step's two counters) each waiting out the 5 s lock wait, and room for a slow machine. */
const BOUNDED_MS = 30_000;
const FRIENDLY_PAGE = 'Latchkey is briefly unavailable';
const FRIENDLY_SIGN_IN = 'Sign-in is briefly unavailable';

const tokenOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;

interface Probe {
	name: string;
	request(): Promise<Response>;
	/** What it answers while the fault lasts: the status and a text the answer shows. */
	during: [number, string];
	/** What it answers once the fault is lifted. */
	after: number;
}

interface Answer {
	status: number;
	ms: number;
	body: string;
}

async function answerOf(probe: Probe): Promise<Answer> {
	const started = Date.now();
	const response = await probe.request();
	return { status: response.status, body: await response.text(), ms: Date.now() - started };
}

describe('SQLite faults on a production build (SQLite file, lock wait 5 s)', () => {
	let dir: string;
	let file: string;
	let database: Storage;
	let mail: MailSink;
	let app: Instance;

	const start = () =>
		startInstance(4401, { DATABASE_URL: file, SMTP_URL: 'smtp://127.0.0.1:2561', PURGE_INTERVAL: 'off' });

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'latchkey-sqlite-faults-'));
		file = join(dir, 'latchkey.db');
		mail = await startMailSink(2561);
		app = await start();
		database = openStorage({ dialect: 'sqlite', file });
	});

	afterAll(async () => {
		await app?.stop();
		await database?.close();
		await mail?.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	/** A signed-in cookie whose session is due a refresh: its next request has to write. */
	async function cookieDueRefresh(email: string): Promise<string> {
		const cookie = await signIn(app, mail, email);
		const row = (await sessionRows(database)).find((candidate) => candidate.token === tokenOf(cookie))!;
		await updateSessionRow(database, row.id, { updatedAt: new Date(Date.now() - TWO_DAYS_MS) });
		return cookie;
	}

	/** A fault that strikes the running app, lifted while it runs. */
	const whileRunning = (fault: SqliteFault) => ({
		...fault,
		apply: async () => {
			const lift = fault.apply(file);
			return async () => lift();
		}
	});

	/** A fault in place when the app starts; lifting it takes a restart. */
	const atStart = (fault: SqliteFault) => ({
		...fault,
		apply: async () => {
			await app.stop();
			const lift = fault.apply(file);
			app = await start();
			return async () => {
				await app.stop();
				lift();
				app = await start();
			};
		}
	});

	it.each([...SQLITE_FAULTS.map(whileRunning), atStart(readOnlyWhenOpened)].map((scenario, i) => ({ ...scenario, i })))(
		'$name: what has to write answers 503 with a friendly page and a log line naming the cause, reads go on, no crash; it recovers once lifted',
		async (scenario) => {
			const email = (label: string) => `${label}-${scenario.i}@example.com`;
			const due = await cookieDueRefresh(email('due'));
			const leaving = await signIn(app, mail, email('leaving'));
			const reader = await signIn(app, mail, email('reader'));
			const roamer = await signIn(app, mail, email('roamer'));
			// The browser that asked for the code tries it: it carries the pending-sign-in cookie.
			const codeHolder = new CookieJar();
			expect(codeHolder.keep(await post(app, '/login?/sendCode', { email: email('code') })).status).toBe(200);
			const code = mail.latestCode(email('code'));
			const probes: Probe[] = [
				{
					name: 'page, session due a refresh',
					request: () => get(app, '/account', due),
					during: [503, FRIENDLY_PAGE],
					after: 200
				},
				{
					name: 'sign out (form action)',
					request: () => post(app, '/logout', {}, leaving),
					during: [503, FRIENDLY_PAGE],
					after: 303
				},
				{
					name: 'send a code (form action)',
					request: () => post(app, '/login?/sendCode', { email: email('other') }),
					during: [503, FRIENDLY_SIGN_IN],
					after: 200
				},
				{
					name: 'check a code (form action)',
					request: () => post(app, '/login?/verifyCode', { email: email('code'), code }, codeHolder.header()),
					during: [503, FRIENDLY_SIGN_IN],
					after: 303
				},
				{
					name: 'page from a new network (the network watch writes)',
					request: () => get(app, '/account', roamer, { from: '127.0.9.1' }),
					during: [503, FRIENDLY_PAGE],
					after: 200
				},
				{
					name: 'page that only reads',
					request: () => get(app, '/account/sessions', reader),
					during: [200, 'Devices'],
					after: 200
				}
			];

			const lift = await scenario.apply();
			const logFrom = app.output().length;
			const during: Answer[] = [];
			let log: string[];
			let output: string;
			try {
				for (const probe of probes) during.push(await answerOf(probe));
			} finally {
				output = app.output();
				log = output.slice(logFrom).split('\n').filter(Boolean);
				await lift();
			}
			const after = await Promise.all(probes.map(answerOf));
			const summary = probes.map(
				(probe, n) => `${probe.name}: ${during[n]!.status} in ${during[n]!.ms} ms, then ${after[n]!.status}`
			);
			console.log(
				`SQLite ${scenario.name}, production build — ${summary.join('; ')}\nlog while it lasted:\n${log.join('\n')}`
			);

			for (const [n, probe] of probes.entries()) {
				const [status, text] = probe.during;
				expect({ probe: probe.name, status: during[n]!.status }).toEqual({ probe: probe.name, status });
				expect(during[n]!.body).toContain(text);
				expect(during[n]!.body).not.toContain('Something went wrong');
				expect(during[n]!.ms).toBeLessThan(BOUNDED_MS);
				expect({ probe: probe.name, status: after[n]!.status }).toEqual({ probe: probe.name, status: probe.after });
			}
			expect(log.length).toBeGreaterThan(0);
			// One line per failure, saying what failed and why (no stack); nothing else — in particular
			// no session logged as ended while its row could not be deleted.
			for (const line of log) expect(line).toMatch(new RegExp(`^latchkey: [a-z -]+: ${scenario.cause.source}`));
			for (const cookie of [due, leaving, reader, roamer]) expect(output + app.output()).not.toContain(tokenOf(cookie));
			expect(app.running()).toBe(true);
		}
	);
});
