import { describe, expect, it } from 'vitest';
import { latestCodeTo, newVisitor, signInActions, TestClock, type TestApp, type Visitor } from './support/app';
import {
	bruteForce,
	describeBruteForce,
	expectStoppedWithinBounds,
	publishedBounds,
	refusalOutcome,
	wrongCode,
	type Attacker,
	type BruteForcePlan
} from './support/brute-force';
import { DIALECTS } from './support/databases';
import { sessionRows } from './support/rows';
import { useScratchApp } from './support/suite';

const BRUTE_FORCE_TIMEOUT_MS = 180_000;

let emails = 0;
const newEmail = (label: string) => `${label}-${++emails}@example.com`;

function visitorAt(address: string): Visitor {
	return { address, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) BruteForce/1' };
}

function mailsTo(app: TestApp, email: string): number {
	return app.outbox.list().filter((message) => message.to === email).length;
}

function serviceAttacker(app: TestApp): Attacker {
	const actions = signInActions(app);
	return {
		async send(email, address) {
			const refusal = await actions.send(email, visitorAt(address));
			return refusal ? refusalOutcome(refusal.status, refusal.message) : 'sent';
		},
		async guess(email, address, code) {
			const refusal = await actions.verify(email, code, visitorAt(address));
			return refusal ? refusalOutcome(refusal.status, refusal.message) : 'signed-in';
		},
		latestCode: (email) => latestCodeTo(app, email)
	};
}

describe.each(DIALECTS)('sign-in limits through the form actions on %s', (dialect) => {
	// A clock that never moves: every plan runs within one window, and no code expires mid-plan.
	const suite = useScratchApp(dialect, { clock: new TestClock() });

	const sessionCount = async () => (await sessionRows(suite.app.database)).length;

	it('kills a code after three wrong tries: the right code then fails too, and a new code works', async () => {
		const { send, verify } = signInActions(suite.app);
		const email = newEmail('three-wrong');
		const visitor = newVisitor();
		const before = await sessionCount();
		expect(await send(email, visitor)).toBeNull();
		const code = latestCodeTo(suite.app, email)!;
		const wrong = wrongCode(0, code);

		const refusals = [];
		for (const otp of [wrong, wrong, wrong, code]) refusals.push(await verify(email, otp, visitor));
		const statuses = refusals.map((refusal) => refusal?.status ?? 'signed in');
		const afterKill = await sessionCount();
		expect(await send(email, visitor)).toBeNull();
		const fresh = await verify(email, latestCodeTo(suite.app, email)!, visitor);
		console.log(
			`three wrong codes then the right one (${dialect}): ${statuses.join(', ')}; sessions ${before} → ${afterKill}; ` +
				`a new code: ${fresh?.status ?? 'signed in'}`
		);

		expect(statuses).toEqual([400, 400, 400, 403]);
		expect(refusals[3]!.message).toMatch(/no longer works/);
		expect(afterKill).toBe(before);
		expect(fresh).toBeNull();
		expect(await sessionCount()).toBe(before + 1);
	});

	it('sends at most 5 codes per email from one network in a window; another network still gets one', async () => {
		const { send } = signInActions(suite.app);
		const email = newEmail('sends-per-email-network');
		const limit = suite.app.config.signInLimits.sendCode.perEmailAndNetwork.limit;
		const visitor = newVisitor();

		const statuses = [];
		for (let i = 0; i <= limit; i++) statuses.push((await send(email, visitor))?.status ?? 'sent');
		const elsewhere = (await send(email, newVisitor()))?.status ?? 'sent';
		console.log(
			`${limit + 1} sends to one email from one network, then one from another (${dialect}): ${statuses.join(', ')}; ${elsewhere}`
		);

		expect(statuses).toEqual([...Array<string>(limit).fill('sent'), 429]);
		expect(elsewhere).toBe('sent');
		expect(mailsTo(suite.app, email)).toBe(limit + 1);
	});

	it('sends at most 50 codes per email in a day, whatever the client address', async () => {
		const { send } = signInActions(suite.app);
		const email = newEmail('sends-per-email');
		const limit = suite.app.config.signInLimits.sendCode.perEmailDaily.limit;

		const statuses = [];
		for (let i = 0; i <= limit; i++) statuses.push((await send(email, newVisitor()))?.status ?? 'sent');
		console.log(`${limit + 1} sends to one email from ${limit + 1} addresses (${dialect}): ${statuses.join(', ')}`);

		expect(statuses).toEqual([...Array<string>(limit).fill('sent'), 429]);
		expect(mailsTo(suite.app, email)).toBe(limit);
	});

	it('sends at most 30 codes per client network in a window: rotating IPv6 addresses in one /64 count as one', async () => {
		const { send } = signInActions(suite.app);
		const limit = suite.app.config.signInLimits.sendCode.perNetwork.limit;
		const prefix = `2001:db8:${dialect === 'sqlite' ? 1 : 2}:7`;
		const targets = Array.from({ length: limit + 1 }, () => newEmail('sends-per-network'));

		const statuses = [];
		for (const [i, email] of targets.entries()) {
			statuses.push((await send(email, visitorAt(`${prefix}::${(i + 1).toString(16)}`)))?.status ?? 'sent');
		}
		const mailed = targets.filter((email) => mailsTo(suite.app, email) > 0).length;
		console.log(
			`${limit + 1} sends to ${limit + 1} emails from ${limit + 1} addresses in ${prefix}::/64 (${dialect}): ` +
				`${statuses.filter((status) => status === 'sent').length} sent, ${statuses.filter((status) => status === 429).length} refused`
		);

		expect(statuses).toEqual([...Array<string>(limit).fill('sent'), 429]);
		expect(mailed).toBe(limit);
	});

	it.each([
		{
			attack: 'one account from 1000 addresses',
			plan: (): Omit<BruteForcePlan, 'label'> => ({
				guesses: 1000,
				emails: [newEmail('victim')],
				addresses: Array.from({ length: 1000 }, () => newVisitor().address),
				resendEvery: 3
			})
		},
		{
			attack: '20 accounts from one address',
			plan: (): Omit<BruteForcePlan, 'label'> => ({
				guesses: 1000,
				emails: Array.from({ length: 20 }, () => newEmail('victims')),
				addresses: [newVisitor().address],
				resendEvery: 3
			})
		}
	])(
		'a brute force of 1000 wrong guesses at $attack gets no session, and no more code checks than published',
		async ({ attack, plan: makePlan }) => {
			const plan = { label: `${attack} (${dialect})`, ...makePlan() };
			const { send } = signInActions(suite.app);
			for (const email of plan.emails) expect(await send(email, newVisitor())).toBeNull();
			const before = await sessionCount();

			const tally = await bruteForce(plan, serviceAttacker(suite.app));
			const sessions = (await sessionCount()) - before;
			const bounds = publishedBounds(suite.app.config.signInLimits, plan);
			console.log(`${describeBruteForce(plan, tally, sessions)} (published bound: ${bounds.codeChecks} code checks)`);

			expectStoppedWithinBounds(plan, tally, sessions, bounds);
		},
		// Over a thousand requests, each counted rule by rule: minutes on a busy machine.
		BRUTE_FORCE_TIMEOUT_MS
	);
});
