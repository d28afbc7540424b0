import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStorage } from '../../src/lib/server/db';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { sessionRows, updateSessionRow } from '../integration/support/rows';
import { get, post, signIn } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';
import { startSilentProxy, type SilentProxy } from './support/silent-proxy';

/**
 * A database that stops answering without refusing anything — a PostgreSQL or MariaDB server
 * behind a proxy that stops forwarding, a SQLite file locked by another connection — while
 * signed-in requests keep coming, on a production build. Every request answers 503 in the shape
 * it expects within the statement timeout and a small margin (db/timeouts.ts), even with every
 * pooled connection stuck; none answers 500 or hangs, and none shows a session token. Once the
 * database answers again, the same requests succeed without a restart.
 */

/** Short, so that the test is quick; the pages' own statements take milliseconds. */
const STATEMENT_TIMEOUT_SECONDS = 2;
/** No request may take longer: the statement timeout, the driver's margin, and room for a busy machine. */
const ANSWER_BOUND_MS = (STATEMENT_TIMEOUT_SECONDS + 2) * 1000;
/** A request unanswered this long is given up on (status 0): a hang. */
const GIVE_UP_MS = 15_000;
/** Fewer connections than concurrent requests: the later requests wait for a connection that is stuck. */
const POOL_MAX = 4;
const CONCURRENT_REQUESTS = 20;
const READERS = 4;
/** Every fifth request signs a session out (POST /logout), each its own session. */
const LEAVERS = CONCURRENT_REQUESTS / 5;
/** After the database answers again, a signed-in page is served again within this. */
const RECOVERY_BOUND_MS = 15_000;
const FRIENDLY_PAGE = 'Latchkey is briefly unavailable';
const UNAVAILABLE_MESSAGE = 'Latchkey is briefly unavailable. Please try again in a minute.';
const TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000;

/** The token inside a `name=token.signature` cookie. */
const tokenOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;

interface Answer {
	status: number;
	contentType: string;
	location: string | null;
	body: string;
	ms: number;
}

/** One kind of request, with what it answers while the database is silent and once it is back. */
interface Probe {
	kind: string;
	send(app: Instance, cookie: string, signal: AbortSignal): Promise<Response>;
	/** The 503 in this request's shape. */
	unavailable(answer: Answer): boolean;
	served(answer: Answer): boolean;
}

const isJson = (answer: Answer) => answer.contentType.startsWith('application/json');
const isFriendlyPage = (answer: Answer) =>
	answer.status === 503 && answer.contentType.startsWith('text/html') && answer.body.includes(FRIENDLY_PAGE);

const PAGE: Probe = {
	kind: 'page',
	send: (app, cookie, signal) => get(app, '/account', cookie, { signal }),
	unavailable: isFriendlyPage,
	served: (answer) => answer.status === 200 && answer.contentType.startsWith('text/html')
};

const DATA: Probe = {
	kind: '__data.json',
	send: (app, cookie, signal) =>
		get(app, '/account/sessions/__data.json?x-sveltekit-invalidated=01', cookie, { signal }),
	unavailable: (answer) =>
		answer.status === 503 && isJson(answer) && JSON.parse(answer.body).message === UNAVAILABLE_MESSAGE,
	served: (answer) => answer.status === 200 && isJson(answer) && JSON.parse(answer.body).type === 'data'
};

const ENHANCED_ACTION: Probe = {
	kind: 'form action (enhanced)',
	send: (app, cookie, signal) =>
		post(app, '/account/sessions?/signOutOthers', {}, cookie, {
			signal,
			headers: { accept: 'application/json', 'x-sveltekit-action': 'true' }
		}),
	unavailable: (answer) =>
		answer.status === 503 &&
		isJson(answer) &&
		JSON.stringify(JSON.parse(answer.body)) ===
			JSON.stringify({ type: 'error', error: { message: UNAVAILABLE_MESSAGE, status: 503 } }),
	served: (answer) => answer.status === 200 && isJson(answer) && JSON.parse(answer.body).type === 'success'
};

const SIGN_OUT: Probe = {
	kind: 'form action (POST /logout)',
	send: (app, cookie, signal) => post(app, '/logout', {}, cookie, { signal }),
	unavailable: isFriendlyPage,
	served: (answer) => answer.status === 303 && answer.location === '/login?signedOut'
};

/** The database of one case, once the app runs on it. */
interface Silenceable {
	/** The DATABASE_URL the app is started with. */
	url: string;
	/** Makes the database stop answering the app; returns what makes it answer again. */
	silence(cookies: string[]): Promise<() => Promise<void>>;
	/** The most connections the app had open at once while silenced, when the case can tell. */
	peakConnections(): number | null;
	/** The connections the app is waiting on while silenced, when the case can tell. */
	busyConnections(): number | null;
	close(): Promise<void>;
}

interface SilentCase {
	name: string;
	appPort: number;
	smtp: number;
	open(): Promise<Silenceable>;
	/** How the app's log lines name the fault. */
	cause: RegExp;
}

/** A server on this machine reached through a proxy that can go silent. */
async function behindProxy(dialect: 'postgres' | 'mysql'): Promise<Silenceable> {
	const scratch: ScratchDatabase = await createScratchDatabase(dialect);
	const direct = (scratch.target as { url: string }).url;
	let proxy: SilentProxy | undefined;
	try {
		proxy = await startSilentProxy({ host: '127.0.0.1', port: Number(new URL(direct).port) });
	} catch (error) {
		await scratch.drop();
		throw error;
	}
	const started = proxy;
	return {
		url: started.urlFor(direct),
		async silence() {
			started.silence();
			return async () => started.forward();
		},
		peakConnections: () => started.peakConnections(),
		busyConnections: () => started.busyConnections(),
		async close() {
			await started.close();
			await scratch.drop();
		}
	};
}

const CASES: SilentCase[] = [
	{
		name: 'SQLite, locked by another connection',
		appPort: 4411,
		smtp: 2571,
		async open() {
			const dir = mkdtempSync(join(tmpdir(), 'latchkey-silent-'));
			const file = join(dir, 'latchkey.db');
			return {
				url: file,
				async silence(cookies) {
					// Under WAL, reads go on beside a writer: what waits for the lock is a write, and
					// with every session due a refresh, every request starts with one.
					const storage = openStorage({ dialect: 'sqlite', file });
					try {
						const tokens = new Set(cookies.map(tokenOf));
						for (const row of await sessionRows(storage))
							if (tokens.has(row.token))
								await updateSessionRow(storage, row.id, { updatedAt: new Date(Date.now() - TWO_DAYS_MS) });
					} finally {
						await storage.close();
					}
					const holder = new Sqlite(file);
					holder.exec('BEGIN EXCLUSIVE');
					return async () => {
						holder.exec('ROLLBACK');
						holder.close();
					};
				},
				peakConnections: () => null,
				busyConnections: () => null,
				close: async () => rmSync(dir, { recursive: true, force: true })
			};
		},
		cause: /the SQLite database is locked by another connection \(SQLITE_BUSY/
	},
	{
		name: 'PostgreSQL behind a proxy that stops forwarding',
		appPort: 4412,
		smtp: 2572,
		open: () => behindProxy('postgres'),
		cause:
			/(PostgreSQL did not answer within the statement timeout|no PostgreSQL connection came free in time|the connection to PostgreSQL was lost) \(/
	},
	{
		name: 'MariaDB behind a proxy that stops forwarding',
		appPort: 4413,
		smtp: 2573,
		open: () => behindProxy('mysql'),
		cause:
			/(MySQL did not answer within the statement timeout|no MySQL connection came free in time|the connection to MySQL was lost|the database server cannot be reached) \(/
	}
];

async function answerOf(send: (signal: AbortSignal) => Promise<Response>): Promise<Answer> {
	const started = performance.now();
	try {
		const response = await send(AbortSignal.timeout(GIVE_UP_MS));
		const body = await response.text();
		return {
			status: response.status,
			contentType: response.headers.get('content-type') ?? '',
			location: response.headers.get('location'),
			body,
			ms: Math.round(performance.now() - started)
		};
	} catch {
		return { status: 0, contentType: '', location: null, body: '', ms: Math.round(performance.now() - started) };
	}
}

describe.each(CASES)('$name', (silentCase) => {
	let database: Silenceable;
	let mail: MailSink;
	let app: Instance;

	beforeAll(async () => {
		database = await silentCase.open();
		mail = await startMailSink(silentCase.smtp);
		app = await startInstance(silentCase.appPort, {
			DATABASE_URL: database.url,
			SMTP_URL: `smtp://127.0.0.1:${silentCase.smtp}`,
			PURGE_INTERVAL: 'off',
			OTP_SEND_LIMIT_PER_IP: '1000',
			OTP_VERIFY_LIMIT_PER_IP: '1000',
			DATABASE_STATEMENT_TIMEOUT: `${STATEMENT_TIMEOUT_SECONDS}s`,
			DATABASE_POOL_MAX: String(POOL_MAX)
		});
	});

	afterAll(async () => {
		// The instance reads its database's tokens for the leak scan as it stops: before the proxy closes.
		await app?.stop();
		await mail?.stop();
		await database?.close();
	});

	it(`${CONCURRENT_REQUESTS} concurrent signed-in requests (pages, __data.json, form actions) answer 503 within the statement timeout and a margin, never 500 or a hang; the same requests succeed once it answers again`, async () => {
		const readers: string[] = [];
		for (let n = 0; n < READERS; n++) readers.push(await signIn(app, mail, `silent-reader-${n}@example.com`));
		const leavers: string[] = [];
		for (let n = 0; n < LEAVERS; n++) leavers.push(await signIn(app, mail, `silent-leaver-${n}@example.com`));
		const requests = Array.from({ length: CONCURRENT_REQUESTS }, (_, n) => {
			const probe = [SIGN_OUT, PAGE, DATA, ENHANCED_ACTION, PAGE][n % 5]!;
			const cookie = probe === SIGN_OUT ? leavers[n / 5]! : readers[n % READERS]!;
			return { probe, cookie };
		});
		const sendAll = () =>
			Promise.all(requests.map(({ probe, cookie }) => answerOf((signal) => probe.send(app, cookie, signal))));
		/**
		 * While silent, the first requests go one at a time, each once the one before holds a
		 * connection of its own: lookups sent together would share one query (the batch loader),
		 * and how many turns they arrive in is up to the machine. So every pooled connection is in
		 * use, whatever the machine's speed, and the rest wait for one, all at once.
		 */
		const sendFillingThePool = async () => {
			const answers: Array<Promise<Answer>> = [];
			for (const [n, { probe, cookie }] of requests.entries()) {
				answers.push(answerOf((signal) => probe.send(app, cookie, signal)));
				if (n >= POOL_MAX || database.busyConnections() === null) continue;
				await vi.waitFor(() => expect(database.busyConnections()).toBeGreaterThan(n), { timeout: 5000, interval: 5 });
			}
			return Promise.all(answers);
		};

		const answerAgain = await database.silence([...readers, ...leavers]);
		const logFrom = app.output().length;
		let during: Answer[];
		try {
			during = await sendFillingThePool();
		} finally {
			await answerAgain();
		}
		const log = app.output().slice(logFrom).split('\n').filter(Boolean);
		const peak = database.peakConnections();

		// Served again: a bounded wait for the first signed-in page, then the same requests.
		const restored = performance.now();
		let recoveredMs: number | null = null;
		for (let attempt = 0; attempt < 100 && performance.now() - restored < RECOVERY_BOUND_MS; attempt++) {
			if (PAGE.served(await answerOf((signal) => PAGE.send(app, readers[0]!, signal)))) {
				recoveredMs = Math.round(performance.now() - restored);
				break;
			}
			await sleep(100);
		}
		const after = await sendAll();

		const slowest = Math.max(...during.map((answer) => answer.ms));
		const byKind = (answers: Answer[]) =>
			requests
				.map(({ probe }, n) => `${probe.kind} ${answers[n]!.status} in ${answers[n]!.ms} ms`)
				.filter((line, n, lines) => lines.indexOf(line) === n)
				.join(', ');
		console.log(
			`${silentCase.name} (statement timeout ${STATEMENT_TIMEOUT_SECONDS} s, pool ${POOL_MAX}): ` +
				`while silent, slowest answer ${slowest} ms, ${peak ?? 'n/a'} connections open at most: ${byKind(during)}; ` +
				`served again ${recoveredMs ?? 'never'} ms after; then ${byKind(after)}\nlog while silent:\n${log.join('\n')}`
		);

		for (const [n, { probe }] of requests.entries()) {
			const answer = during[n]!;
			expect({ request: n, kind: probe.kind, status: answer.status, body: answer.body.slice(0, 200) }).toMatchObject({
				status: 503
			});
			expect(probe.unavailable(answer), `${probe.kind}: the 503 in its shape`).toBe(true);
			expect(answer.ms, `${probe.kind}: answered within the bound`).toBeLessThan(ANSWER_BOUND_MS);
		}
		if (peak !== null) expect(peak, 'every pooled connection was in use while silent').toBeGreaterThanOrEqual(POOL_MAX);
		expect(log.length).toBeGreaterThan(0);
		for (const line of log) expect(line).toMatch(new RegExp(`^latchkey: [a-z -]+: ${silentCase.cause.source}`));
		const tokens = [...readers, ...leavers].map(tokenOf);
		for (const token of tokens) {
			expect(app.output()).not.toContain(token);
			for (const answer of [...during, ...after]) expect(answer.body).not.toContain(token);
		}

		expect(recoveredMs).not.toBeNull();
		for (const [n, { probe }] of requests.entries()) {
			const answer = after[n]!;
			expect({ request: n, kind: probe.kind, status: answer.status, served: probe.served(answer) }).toEqual({
				request: n,
				kind: probe.kind,
				status: answer.status,
				served: true
			});
		}
		expect(app.running()).toBe(true);
	});
});
