import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/lib/server/db';
import { signInLimits } from '../../src/lib/server/rate-limit';
import {
	bruteForce,
	describeBruteForce,
	expectStoppedWithinBounds,
	publishedBounds,
	refusalOutcome,
	wrongCode,
	type Attacker,
	type BruteForcePlan,
	type Outcome
} from '../integration/support/brute-force';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { sessionRows } from '../integration/support/rows';
import { CookieJar, post, type RequestOptions } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const SESSION_COOKIE = /^__Host-latchkey\.session_token=[^;]+/;

const BRUTE_FORCE_TIMEOUT_MS = 300_000;

let emails = 0;
const newEmail = (label: string) => `${label}-${process.pid}-${++emails}@example.com`;

/** `count` client addresses of their own, 127.<block>.x.y: the instance sees each as another client. */
function loopbackAddresses(block: number, count: number): string[] {
	return Array.from({ length: count }, (_, i) => `127.${block}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

/** A random address to forge in X-Forwarded-For: without ADDRESS_HEADER the instance must ignore it. */
const forgedAddress = () => Array.from({ length: 4 }, () => Math.floor(Math.random() * 254) + 1).join('.');

describe.each([
	{ name: 'PostgreSQL', dialect: 'postgres' as const, port: 4400, smtp: 2560 },
	{ name: 'MariaDB', dialect: 'mysql' as const, port: 4405, smtp: 2565 }
])('OTP brute force against a production build on $name, default limits', ({ dialect, port, smtp }) => {
	let scratch: ScratchDatabase;
	let database: Storage;
	let mail: MailSink;
	let app: Instance;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		mail = await startMailSink(smtp);
		app = await startInstance(port, {
			DATABASE_URL: (scratch.target as { url: string }).url,
			SMTP_URL: `smtp://127.0.0.1:${smtp}`,
			PURGE_INTERVAL: 'off'
		});
		database = openStorage(scratch.target);
	});

	afterAll(async () => {
		await app?.stop();
		await database?.close();
		await mail?.stop();
		await scratch?.drop();
	});

	const sessionCount = async () => (await sessionRows(database)).length;

	function latestCode(email: string): string | undefined {
		try {
			return mail.latestCode(email);
		} catch {
			return undefined;
		}
	}

	/**
	 * The login form over HTTP from `browser`, which keeps the pending-sign-in cookie a sent code
	 * sets: a refusal is the page's status and the message it shows.
	 */
	async function postForm(
		action: 'sendCode' | 'verifyCode',
		form: Record<string, string>,
		options: RequestOptions,
		browser: CookieJar
	) {
		const response = browser.keep(await post(app, `/login?/${action}`, form, browser.header(), options));
		const setsSession = response.headers.getSetCookie().some((line) => SESSION_COOKIE.test(line));
		return { status: response.status, body: await response.text(), setsSession };
	}

	/**
	 * One attacking browser per victim address, moving between client addresses with its cookies:
	 * each code it gets sent is its own, so its guesses are checked against a live code rather than
	 * answered as a browser without one. `holdsNewest` lists the addresses whose newest mailed
	 * code it holds: the right code it tries at the end then meets nothing but the limits.
	 */
	function httpAttacker(extraHeaders: () => Record<string, string> = () => ({})) {
		const browsers = new Map<string, CookieJar>();
		const browserFor = (email: string) => browsers.get(email) ?? browsers.set(email, new CookieJar()).get(email)!;
		const holdsNewest = new Set<string>();
		const outcome = (status: number, body: string, success: number, succeeded: Outcome): Outcome =>
			status === success ? succeeded : refusalOutcome(status, body);
		const attacker: Attacker = {
			async send(email, from) {
				const { status, body } = await postForm(
					'sendCode',
					{ email },
					{ from, headers: extraHeaders() },
					browserFor(email)
				);
				const sent = outcome(status, body, 200, 'sent');
				if (sent === 'sent') holdsNewest.add(email);
				return sent;
			},
			async guess(email, from, code) {
				const { status, body, setsSession } = await postForm(
					'verifyCode',
					{ email, code },
					{ from, headers: extraHeaders() },
					browserFor(email)
				);
				return setsSession ? 'signed-in' : outcome(status, body, 303, 'signed-in');
			},
			latestCode
		};
		return { attacker, holdsNewest };
	}

	it('three wrong codes kill the code: the right code then fails too, and no session is created', async () => {
		const email = newEmail('three-wrong');
		const [from, strangerFrom] = loopbackAddresses(10, 2) as [string, string];
		const owner = new CookieJar();
		const before = await sessionCount();
		expect((await postForm('sendCode', { email }, { from }, owner)).status).toBe(200);
		const code = mail.latestCode(email);
		const wrong = wrongCode(0, code);

		// The right code from a browser that did not ask for it is no use, and leaves the code alone.
		const stranger = await postForm('verifyCode', { email, code }, { from: strangerFrom }, new CookieJar());
		expect(stranger.status).toBe(400);
		expect(stranger.body).toContain('That code is not valid.');

		const answers = [];
		for (const otp of [wrong, wrong, wrong, code])
			answers.push(await postForm('verifyCode', { email, code: otp }, { from }, owner));
		const sessions = (await sessionCount()) - before;
		console.log(
			`the right code from another browser, then three wrong codes and the right one over HTTP: ${[stranger, ...answers].map((answer) => answer.status).join(', ')}; ${sessions} sessions`
		);

		expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 403]);
		expect(answers[3]!.body).toContain('Too many wrong codes: this code no longer works.');
		expect([stranger, ...answers].some((answer) => answer.setsSession)).toBe(false);
		expect(sessions).toBe(0);
	});

	it.each([
		{
			attack: 'one account from 200 client addresses',
			plan: (): Omit<BruteForcePlan, 'label'> => ({
				guesses: 1000,
				emails: [newEmail('victim')],
				addresses: loopbackAddresses(20, 200),
				resendEvery: 3
			}),
			forge: false
		},
		{
			attack: '20 accounts from one client address forging X-Forwarded-For',
			plan: (): Omit<BruteForcePlan, 'label'> => ({
				guesses: 1000,
				emails: Array.from({ length: 20 }, () => newEmail('victims')),
				addresses: loopbackAddresses(30, 1),
				resendEvery: 3
			}),
			forge: true
		}
	])(
		'1000 wrong guesses posted to /login?/verifyCode ($attack): no session, no 5xx, no more code checks than published',
		async ({ attack, plan: makePlan, forge }) => {
			const plan = { label: `${attack}, over HTTP`, ...makePlan() };
			const victims = loopbackAddresses(50, plan.emails.length);
			for (const [i, email] of plan.emails.entries()) {
				expect((await postForm('sendCode', { email }, { from: victims[i] }, new CookieJar())).status).toBe(200);
			}
			const before = await sessionCount();

			const started = Date.now();
			const { attacker, holdsNewest } = httpAttacker(
				forge ? () => ({ 'x-forwarded-for': forgedAddress() }) : undefined
			);
			const tally = await bruteForce(plan, attacker);
			const sessions = (await sessionCount()) - before;
			const bounds = publishedBounds(signInLimits(), plan);
			console.log(
				`${describeBruteForce(plan, tally, sessions)} (published bound: ${bounds.codeChecks} code checks; ${Date.now() - started} ms)`
			);

			expectStoppedWithinBounds(plan, tally, sessions, bounds);
			// Its guesses met codes of its own, and the right code it tried last was the newest, held by itself.
			expect([...holdsNewest].sort()).toEqual([...new Set(plan.emails)].sort());
		},
		// A thousand form posts, each counted rule by rule: more than the default on a busy machine.
		BRUTE_FORCE_TIMEOUT_MS
	);
});
