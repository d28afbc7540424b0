import type { APIResponse, Browser, BrowserContext, Page } from '@playwright/test';
import { ageSessionsOf, sessionCountFor, sessionIdsFor } from './support/database';
import { expect, test } from './support/fixtures';
import { CODE_DIGITS, countMessagesTo, latestCodeFor, uniqueEmail } from './support/mail';
import { ATTACK_APP, KNOWN_DEVICE_COOKIE, SESSION_COOKIE } from './support/servers';
import { enterCode, expectCodeStep, signInAs } from './support/sign-in';

/*
 * A stranger who knows the owner's address attacks it from outside, against a production build
 * behind a pretend proxy (ADDRESS_HEADER=X-Forwarded-For), so that it can stand for as many
 * client networks as it likes: it asks for codes to the address until every limit refuses it and
 * probes the code step without pause, all while the owner signs in. Whatever the stranger does,
 * the owner's browser gets in with the code it was sent, and the stranger never does. Every
 * assertion is about what happened, never about how fast.
 */

const from = (address: string) => ({ 'x-forwarded-for': address });
const AS_BROWSER = { origin: ATTACK_APP.origin, accept: 'text/html' } as const;
const OWNER_NETWORK = '198.51.100.1';

test.use({ baseURL: ATTACK_APP.origin, extraHTTPHeaders: from(OWNER_NETWORK) });

/**
 * The published limits on one address for browsers it has never signed in (docs/CONFIGURATION.md,
 * "Sign-in codes and limits"): per client network, and the ceiling over all networks.
 */
const LIMITS = {
	send: { perNetwork: 5, perAddress: 50 },
	verify: { perNetwork: 10, perAddress: 150 }
} as const;

/** More networks than the ceilings need, so that the ceiling refuses the stranger before its networks run out. */
const STRANGERS = 30;
const TICK_MS = 100;
/** The stranger's loops stop by themselves at these bounds, far beyond what reaching every limit takes. */
const MAX_TICKS = 1_000;
const MAX_ATTACK_MS = 150_000;
/** Older than the window in which an action needs no new code. */
const STALE_MINUTES = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomCode = () => String(Math.floor(Math.random() * 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');

/**
 * Codes to the address are asked for one at a time, the stranger's and the owner's alike, so the
 * test knows which mail answers which request, as the owner knows the mail it asked for. Only
 * the asking is ordered: the stranger's requests still land between the owner's send and its
 * code, and the probes never wait.
 */
class MailTurns {
	#last: Promise<unknown> = Promise.resolve();

	take<T>(work: () => Promise<T>): Promise<T> {
		const turn = this.#last.then(work);
		this.#last = turn.catch(() => undefined);
		return turn;
	}
}

type SendAnswer = 'sent' | 'limited' | 'other';
type ProbeAnswer = 'not valid' | 'used up' | 'expired' | 'limited' | 'signed in' | 'other';

interface Answer {
	status: number;
	body: string;
	setsSession: boolean;
}

async function answerOf(response: APIResponse): Promise<Answer> {
	const setsSession = response
		.headersArray()
		.some(
			({ name, value }) =>
				name.toLowerCase() === 'set-cookie' && value.startsWith(`${SESSION_COOKIE}=`) && !/^[^=]+=;/.test(value)
		);
	return { status: response.status(), body: await response.text(), setsSession };
}

function sendAnswer({ status, body }: Answer): SendAnswer {
	if (status === 200 && body.includes('We sent a sign-in code to')) return 'sent';
	if (status === 429 && body.includes('Too many codes sent for now')) return 'limited';
	return 'other';
}

function probeAnswer({ status, body, setsSession }: Answer): ProbeAnswer {
	if (setsSession || status === 303) return 'signed in';
	if (status === 400 && body.includes('That code is not valid.')) return 'not valid';
	if (status === 403 && body.includes('Too many wrong codes')) return 'used up';
	if (status === 400 && body.includes('That code has expired.')) return 'expired';
	if (status === 429 && body.includes('Too many attempts for now')) return 'limited';
	return 'other';
}

/** Answers that mean a try reached a code check: the stranger's own code, or none, which look alike. */
const CHECKED: ProbeAnswer[] = ['not valid', 'used up', 'expired'];

interface Stranger {
	network: string;
	/** A browser of its own (cookie jar and all), at its own network. */
	context: BrowserContext;
	/** Half of them ask for codes (and so hold one to burn); the others only guess, holding none. */
	sends: boolean;
}

interface StrangerTally {
	sends: Record<SendAnswer, number>;
	probes: Record<ProbeAnswer, number>;
	/** Refusals by a network's own limit, each of which moved the stranger on to the next network. */
	sendNetworksSpent: number;
	probeNetworksSpent: number;
	/** A network with room under its own limit was refused: the per-address ceiling holds. */
	sendCeiling: boolean;
	probeCeiling: boolean;
	/** Anything the form answered that is none of the above. */
	unexpected: string[];
}

interface Attack {
	strangers: Stranger[];
	/** Runs the owner's part while the stranger's loops go on; then lets them finish, and returns what they met. */
	whileRunning(owner: () => Promise<void>): Promise<StrangerTally>;
}

/**
 * Two loops, each one request every TICK_MS: one asks for codes to `email`, one probes the code
 * step with random codes. Each stays at a network until its own limit refuses it, then moves to
 * the next. They stop once the owner is done and the per-address ceiling has refused them, or at
 * their bounds.
 */
async function startAttack(browser: Browser, email: string, block: string, turns: MailTurns): Promise<Attack> {
	const strangers: Stranger[] = [];
	for (let i = 0; i < STRANGERS; i++) {
		const network = `${block}.${i + 1}`;
		// Each request on a connection of its own: a stranger's turn can come round after the
		// server's keep-alive timeout, and a request sent on a socket the server is closing just
		// then is reset before it arrives (a race of this client, not an answer of the app).
		const context = await browser.newContext({
			baseURL: ATTACK_APP.origin,
			extraHTTPHeaders: { ...from(network), connection: 'close' }
		});
		strangers.push({ network, context, sends: i % 2 === 0 });
	}
	const tally: StrangerTally = {
		sends: { sent: 0, limited: 0, other: 0 },
		probes: { 'not valid': 0, 'used up': 0, expired: 0, limited: 0, 'signed in': 0, other: 0 },
		sendNetworksSpent: 0,
		probeNetworksSpent: 0,
		sendCeiling: false,
		probeCeiling: false,
		unexpected: []
	};
	let ownerDone = false;
	let halted = false;
	const deadline = Date.now() + MAX_ATTACK_MS;

	async function loop(
		members: Stranger[],
		perNetwork: number,
		attempt: (stranger: Stranger) => Promise<'accepted' | 'limited' | 'other'>,
		ceilingReached: () => boolean,
		ceiling: () => void,
		networkSpent: () => void
	) {
		const accepted = new Map<Stranger, number>();
		let cursor = 0;
		for (let tick = 0; tick < MAX_TICKS && !halted && Date.now() < deadline; tick++) {
			if (ownerDone && ceilingReached()) return;
			const stranger = members[cursor % members.length]!;
			const outcome = await attempt(stranger);
			if (outcome === 'accepted') accepted.set(stranger, (accepted.get(stranger) ?? 0) + 1);
			if (outcome === 'limited') {
				if ((accepted.get(stranger) ?? 0) >= perNetwork) networkSpent();
				else ceiling();
				cursor += 1;
			}
			await sleep(TICK_MS);
		}
	}

	const sending = loop(
		strangers.filter((stranger) => stranger.sends),
		LIMITS.send.perNetwork,
		async ({ context, network }) => {
			const response = await turns.take(() =>
				context.request.post('/login?/sendCode', {
					form: { email },
					headers: { ...AS_BROWSER, ...from(network) },
					maxRedirects: 0
				})
			);
			const answer = await answerOf(response);
			const outcome = sendAnswer(answer);
			tally.sends[outcome] += 1;
			if (outcome === 'other') tally.unexpected.push(`send from ${network}: ${answer.status}`);
			return outcome === 'sent' ? 'accepted' : outcome;
		},
		() => tally.sendCeiling,
		() => (tally.sendCeiling = true),
		() => (tally.sendNetworksSpent += 1)
	);
	const probing = loop(
		strangers,
		LIMITS.verify.perNetwork,
		async ({ context, network }) => {
			const response = await context.request.post('/login?/verifyCode', {
				form: { email, code: randomCode() },
				headers: { ...AS_BROWSER, ...from(network) },
				maxRedirects: 0
			});
			const answer = await answerOf(response);
			const outcome = probeAnswer(answer);
			tally.probes[outcome] += 1;
			if (outcome === 'other' || outcome === 'signed in') {
				tally.unexpected.push(`probe from ${network}: ${outcome}, ${answer.status}`);
			}
			return CHECKED.includes(outcome) ? 'accepted' : outcome === 'limited' ? 'limited' : 'other';
		},
		() => tally.probeCeiling,
		() => (tally.probeCeiling = true),
		() => (tally.probeNetworksSpent += 1)
	);
	const finished = Promise.all([sending, probing]).then(() => tally);
	// Awaited below; until then a failed request must not count as an unhandled rejection.
	finished.catch(() => undefined);

	return {
		strangers,
		async whileRunning(owner) {
			try {
				await owner();
			} catch (error) {
				halted = true;
				await finished.catch(() => undefined);
				throw error;
			} finally {
				ownerDone = true;
			}
			return finished;
		}
	};
}

/**
 * What the stranger came to, whatever the timing: it never signed in, every answer was one the
 * form gives, and every limit refused it — each network's own, then the ceiling, which let
 * through exactly what the owner's own first sign-ins had left of it.
 */
async function expectStrangerHeldOff(
	attack: Attack,
	tally: StrangerTally,
	ownersUnknownSignIns: number,
	label: string
): Promise<void> {
	const checked = CHECKED.reduce((sum, answer) => sum + tally.probes[answer], 0);
	console.log(
		`${label}: the stranger sent ${tally.sends.sent} codes (${tally.sends.limited} refused, ${tally.sendNetworksSpent} networks spent), ` +
			`probed ${checked} times (${tally.probes['not valid']} not valid, ${tally.probes['used up']} used up, ` +
			`${tally.probes.limited} refused, ${tally.probeNetworksSpent} networks spent), signed in ${tally.probes['signed in']} times`
	);
	expect(tally.unexpected).toEqual([]);
	expect(tally.probes['signed in']).toBe(0);
	for (const { context, network } of attack.strangers) {
		const cookies = await context.cookies();
		expect(
			cookies.some((cookie) => cookie.name === SESSION_COOKIE),
			`session cookie at ${network}`
		).toBe(false);
	}
	expect(tally.sendNetworksSpent).toBeGreaterThan(0);
	expect(tally.probeNetworksSpent).toBeGreaterThan(0);
	expect(tally.sendCeiling).toBe(true);
	expect(tally.probeCeiling).toBe(true);
	expect(tally.sends.sent).toBe(LIMITS.send.perAddress - ownersUnknownSignIns);
	expect(checked).toBe(LIMITS.verify.perAddress - ownersUnknownSignIns);
}

async function closeAll(attack: Attack | undefined, ...contexts: BrowserContext[]) {
	await Promise.all([
		...(attack?.strangers ?? []).map(({ context }) => context.close()),
		...contexts.map((context) => context.close())
	]);
}

/** Asks for a code in its turn and returns it: the one mail that turn brought. */
function codeAskedFor(turns: MailTurns, email: string, ask: () => Promise<void>): Promise<string> {
	return turns.take(async () => {
		const before = await countMessagesTo(email);
		await ask();
		const code = await latestCodeFor(email, before);
		expect(await countMessagesTo(email), 'mail in the owner’s turn').toBe(before + 1);
		return code;
	});
}

/** The owner's round: a code sent to this browser, typed once; "signed in", or what the page answered. */
async function ownerSignsIn(page: Page, email: string, turns: MailTurns): Promise<string> {
	await page.goto('/login');
	await page.getByLabel('Email address').fill(email);
	const code = await codeAskedFor(turns, email, async () => {
		await page.getByRole('button', { name: 'Email me a code' }).click();
		await expectCodeStep(page, email);
	});
	await enterCode(page, code);
	const signedIn = page.getByText(`You are signed in as ${email}`);
	const refused = page.getByRole('alert');
	await expect(signedIn.or(refused)).toBeVisible();
	return (await signedIn.isVisible()) ? 'signed in' : ((await refused.textContent()) ?? '').trim();
}

async function knownDeviceTag(context: BrowserContext): Promise<string | undefined> {
	return (await context.cookies()).find((cookie) => cookie.name === KNOWN_DEVICE_COOKIE)?.value;
}

test('a stranger spending every limit on the address never keeps its owner’s known browser out: 10 of 10 sign-ins on the first right code', async ({
	page,
	context,
	browser
}) => {
	test.setTimeout(240_000);
	const email = uniqueEmail('attacked-owner');
	const turns = new MailTurns();
	await signInAs(page, email);
	const tag = await knownDeviceTag(context);
	expect(tag, 'known-device cookie').toBeDefined();
	await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL('/login?signedOut');

	let attack: Attack | undefined;
	try {
		attack = await startAttack(browser, email, '192.0.2', turns);
		const rounds: string[] = [];
		const tally = await attack.whileRunning(async () => {
			for (let round = 1; round <= 10; round++) {
				// A network of the owner's own each round: its limit per network is the owner's, not the stranger's doing.
				await context.setExtraHTTPHeaders(from(`198.51.100.${10 + round}`));
				const outcome = await ownerSignsIn(page, email, turns);
				rounds.push(outcome);
				if (outcome !== 'signed in') continue;
				await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
				await expect(page).toHaveURL('/login?signedOut');
			}
		});
		console.log(`the owner's known browser under attack: ${rounds.join('; ')}`);
		expect(rounds).toEqual(Array(10).fill('signed in'));
		expect(await knownDeviceTag(context)).toBe(tag);
		await expectStrangerHeldOff(attack, tally, 1, 'sign-in under attack');
	} finally {
		await closeAll(attack);
	}
});

test('under the same attack, the owner confirms with a new code and signs the stolen browser out', async ({
	page,
	browser
}) => {
	test.setTimeout(240_000);
	const email = uniqueEmail('stolen-browser');
	const turns = new MailTurns();
	const stolen = await browser.newContext({ baseURL: ATTACK_APP.origin, extraHTTPHeaders: from('198.51.100.60') });
	let attack: Attack | undefined;
	try {
		const stolenPage = await stolen.newPage();
		await signInAs(page, email);
		await signInAs(stolenPage, email);
		// Both signed in long enough ago that ending other devices needs a new code.
		ageSessionsOf(ATTACK_APP, email, STALE_MINUTES);
		const sessions = sessionIdsFor(ATTACK_APP, email).sort();
		expect(sessions).toHaveLength(2);

		attack = await startAttack(browser, email, '198.18.0', turns);
		const tally = await attack.whileRunning(async () => {
			await page.goto('/account/sessions');
			await page.getByRole('button', { name: 'Sign out other devices' }).click();
			await expect(page).toHaveURL('/reauth?redirectTo=%2Faccount%2Fsessions');
			expect(sessionIdsFor(ATTACK_APP, email).sort()).toEqual(sessions);

			const code = await codeAskedFor(turns, email, async () => {
				await page.getByRole('button', { name: 'Email me a code' }).click();
				await expect(page.getByLabel('Sign-in code')).toBeVisible();
			});
			await page.getByLabel('Sign-in code').fill(code);
			await page.getByRole('button', { name: 'Confirm' }).click();
			await expect(page).toHaveURL('/account/sessions');
			await page.getByRole('button', { name: 'Sign out other devices' }).click();
			await expect(page.getByRole('status')).toContainText('Signed out 1 other device.');
		});

		await stolenPage.goto('/account/sessions');
		await expect(stolenPage).toHaveURL('/login?redirectTo=%2Faccount%2Fsessions');
		expect(sessionCountFor(ATTACK_APP, email)).toBe(1);
		await page.goto('/account');
		await expect(page).toHaveURL('/account');
		await expectStrangerHeldOff(attack, tally, 2, 'stolen browser signed out under attack');
	} finally {
		await closeAll(attack, stolen);
	}
});
