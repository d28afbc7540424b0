import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceTag, knownDeviceCookieName } from '../../src/lib/server/auth/known-device';
import {
	sendReauthenticationCode,
	verifyReauthenticationCode,
	type ReauthenticatingUser,
	type SignInRefusal,
	type SignInService
} from '../../src/lib/server/auth/otp-sign-in';
import { revokeOtherSessions } from '../../src/lib/server/auth/sessions';
import {
	asFormAction,
	latestCodeTo,
	newVisitor,
	sessionCookieFrom,
	signIn,
	signInActions,
	signInServiceOf,
	TestClock,
	type TestApp,
	type Visitor
} from './support/app';
import { wrongCode } from './support/brute-force';
import { DIALECTS } from './support/databases';
import { sessionRows } from './support/rows';
import { useScratchApp } from './support/suite';

const REDIS_URL = 'redis://127.0.0.1:6379';
const FIFTEEN_MINUTES = 15 * 60;
/** Hundreds of requests, each counted rule by rule: more than the default on a busy machine. */
const MANY_REQUESTS_TIMEOUT_MS = 120_000;

let emails = 0;
const newEmail = (label: string) => `${label}-${process.pid}-${++emails}@example.com`;

/** What a step came to, as the person at the keyboard sees it. */
function outcome(refusal: SignInRefusal | null): string {
	if (!refusal) return 'ok';
	if (refusal.status === 429) return 'limited';
	if (/That code is not valid|Too many wrong codes|has expired/.test(refusal.message)) return 'code checked';
	return `${refusal.status} ${refusal.message}`;
}

function tally(outcomes: string[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const each of outcomes) counts[each] = (counts[each] ?? 0) + 1;
	return counts;
}

/** The re-authentication steps as the reauth page's actions take them, from `visitor`'s session. */
function reauthActions(app: TestApp, service: SignInService) {
	return {
		send: async (visitor: Visitor, who: ReauthenticatingUser) =>
			(await asFormAction(app, visitor, (event) => sendReauthenticationCode(service, event, who))).outcome,
		verify: async (visitor: Visitor, who: ReauthenticatingUser, code: string) =>
			(
				await asFormAction(app, visitor, (event) =>
					verifyReauthenticationCode(service, event, { ...who, code, rememberMe: false })
				)
			).outcome
	};
}

/** `name=value` of the known-device cookie a sign-in response set. */
function knownDeviceCookieFrom(app: TestApp, response: Response): string {
	const name = knownDeviceCookieName(app.config.cookies);
	const line = response.headers.getSetCookie().find((candidate) => candidate.startsWith(`${name}=`));
	if (!line) throw new Error(`no ${name} cookie in the sign-in response (status ${response.status})`);
	return line.split(';')[0]!;
}

/**
 * Strangers on `networks` networks, each asking for a code and guessing it wrong three times,
 * three rounds each (within the per-network pair's 15-minute limits) or until a limit stops
 * it: what it takes to use up the per-email ceiling, which no one network can reach.
 */
async function exhaustEmailCeiling(
	app: TestApp,
	service: SignInService,
	email: string,
	networks: number,
	cookie?: string
) {
	const { send, verify } = signInActions(app, service);
	const sends: string[] = [];
	const guesses: string[] = [];
	for (let n = 0; n < networks; n++) {
		const stranger: Visitor = { ...newVisitor(), ...(cookie ? { cookie } : {}) };
		for (let round = 0; round < 3; round++) {
			const sent = outcome(await send(email, stranger));
			sends.push(sent);
			if (sent !== 'ok') break;
			for (let i = 0; i < 3; i++) {
				guesses.push(outcome(await verify(email, wrongCode(i, latestCodeTo(app, email)), stranger)));
			}
		}
	}
	return { sends: tally(sends), guesses: tally(guesses) };
}

describe.each(DIALECTS)('no lock-outs by strangers, through the sign-in service, on %s', (dialect) => {
	// Time moves only when a test moves it: windows and code lifetimes never end mid-test.
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock });
	const sessionCount = async () => (await sessionRows(suite.app.database)).length;

	it(
		'a stranger on one network asks and guesses as often as the limits let it, for hours; the victim then signs in from another',
		async () => {
			const { app } = suite;
			const { send, verify } = signInActions(app);
			const email = newEmail('victim');
			const stranger = newVisitor();
			const sends: string[] = [];
			const guesses: string[] = [];
			for (let window = 0; window < 12; window++) {
				if (window > 0) clock.advance(FIFTEEN_MINUTES);
				for (let round = 0; round < 6; round++) {
					sends.push(outcome(await send(email, stranger)));
					for (let i = 0; i < 4; i++) {
						guesses.push(outcome(await verify(email, wrongCode(i, latestCodeTo(app, email)), stranger)));
					}
				}
			}
			const before = await sessionCount();

			const victim = newVisitor();
			const victimSend = outcome(await send(email, victim));
			const victimSignIn = outcome(await verify(email, latestCodeTo(app, email)!, victim));
			console.log(
				`a stranger on one network for 12 windows of 15 minutes (${dialect}): sends ${JSON.stringify(tally(sends))}, ` +
					`guesses ${JSON.stringify(tally(guesses))}; then the victim from another network: send ${victimSend}, sign-in ${victimSignIn}`
			);

			expect(victimSend).toBe('ok');
			expect(victimSignIn).toBe('ok');
			const limits = app.config.signInLimits;
			expect(tally(sends).ok).toBe(limits.sendCode.perEmailAndNetworkDaily.limit);
			expect(tally(guesses)['code checked']).toBeGreaterThan(limits.verifyCode.perEmailAndNetwork.limit);
			expect(tally(guesses)['code checked']).toBeLessThanOrEqual(limits.verifyCode.perEmailAndNetworkDaily.limit);
			expect(tally(guesses).limited).toBeGreaterThan(0);
			expect(await sessionCount()).toBe(before + 1);
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		'a browser that signed in before still signs in while strangers on many networks hold the email; a new browser is held',
		async () => {
			const { app } = suite;
			const service = signInServiceOf(app);
			const { send, verify } = signInActions(app, service);
			const email = newEmail('known-browser');
			const home = newVisitor();
			const knownDevice = knownDeviceCookieFrom(app, await signIn(app, email, { visitor: home }));
			const otherAddress = `${knownDeviceCookieName(app.config.cookies)}=${deviceTag(app.config.secret, 'someone-else@example.com')}`;
			const forged = `${knownDeviceCookieName(app.config.cookies)}=${'A'.repeat(43)}`;

			const attack = await exhaustEmailCeiling(app, service, email, 60);
			const newBrowser = newVisitor();
			const held = {
				'new browser': outcome(await send(email, newBrowser)),
				'new browser, guess': outcome(await verify(email, wrongCode(0, undefined), newBrowser)),
				"another address's cookie": outcome(await send(email, { ...newVisitor(), cookie: otherAddress })),
				'forged cookie': outcome(await send(email, { ...newVisitor(), cookie: forged }))
			};
			const before = await sessionCount();
			const known: Visitor = { ...newVisitor(), cookie: knownDevice };
			const knownSend = outcome(await send(email, known));
			const knownSignIn = outcome(await verify(email, latestCodeTo(app, email)!, known));
			console.log(
				`per-email ceiling used up from 60 networks (${dialect}): sends ${JSON.stringify(attack.sends)}, ` +
					`guesses ${JSON.stringify(attack.guesses)}; ${JSON.stringify(held)}; ` +
					`the known browser from another network: send ${knownSend}, sign-in ${knownSignIn}`
			);

			const limits = app.config.signInLimits;
			expect(attack.sends.ok).toBe(limits.sendCode.perEmailDaily.limit);
			expect(attack.guesses['code checked']).toBe(limits.verifyCode.perEmailDaily.limit);
			expect(held).toEqual({
				'new browser': 'limited',
				'new browser, guess': 'limited',
				"another address's cookie": 'limited',
				'forged cookie': 'limited'
			});
			expect(knownSend).toBe('ok');
			expect(knownSignIn).toBe('ok');
			expect(await sessionCount()).toBe(before + 1);
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		"a known-device cookie copied to many networks spends only the known browsers' ceiling; new browsers still sign in",
		async () => {
			const { app } = suite;
			const service = signInServiceOf(app);
			const { send, verify } = signInActions(app, service);
			const email = newEmail('copied-tag');
			const copied = knownDeviceCookieFrom(app, await signIn(app, email, { visitor: newVisitor() }));

			const attack = await exhaustEmailCeiling(app, service, email, 60, copied);
			const knownHeld = outcome(await send(email, { ...newVisitor(), cookie: copied }));
			const before = await sessionCount();
			const newBrowser = newVisitor();
			const newSend = outcome(await send(email, newBrowser));
			const newSignIn = outcome(await verify(email, latestCodeTo(app, email)!, newBrowser));
			console.log(
				`known-device cookie copied to 60 networks (${dialect}): sends ${JSON.stringify(attack.sends)}, ` +
					`guesses ${JSON.stringify(attack.guesses)}; the copied cookie then ${knownHeld}; ` +
					`a new browser: send ${newSend}, sign-in ${newSignIn}`
			);

			const limits = app.config.signInLimits;
			expect(attack.sends.ok).toBe(limits.sendCode.perEmailKnownDaily.limit);
			expect(attack.guesses['code checked']).toBe(limits.verifyCode.perEmailKnownDaily.limit);
			expect(knownHeld).toBe('limited');
			expect(newSend).toBe('ok');
			expect(newSignIn).toBe('ok');
			expect(await sessionCount()).toBe(before + 1);
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it('a try from a browser with no code of its own is answered and counted as a wrong code', async () => {
		const { app } = suite;
		const { send, verify } = signInActions(app);
		const email = newEmail('no-code');
		const visitor = newVisitor();
		const limits = app.config.signInLimits.verifyCode;
		const attempts = 2 * limits.perNetwork.limit;

		const refusals: string[] = [];
		const messages = new Set<string | undefined>();
		for (let i = 0; i < attempts; i++) {
			const refusal = await verify(email, wrongCode(i, undefined), visitor);
			refusals.push(outcome(refusal));
			if (refusal?.status !== 429) messages.add(`${refusal?.status} ${refusal?.message}`);
		}
		const owner = newVisitor();
		const sent = outcome(await send(email, owner));
		const wrong = [];
		const ownerMessages = new Set<string>();
		for (let i = 0; i < 2; i++) {
			const refusal = await verify(email, wrongCode(i, latestCodeTo(app, email)), owner);
			wrong.push(outcome(refusal));
			ownerMessages.add(`${refusal?.status} ${refusal?.message}`);
		}
		const signedIn = outcome(await verify(email, latestCodeTo(app, email)!, owner));
		console.log(
			`${attempts} attempts with no code of their own (${dialect}): ${JSON.stringify(tally(refusals))}; ` +
				`then the owner's browser: sent ${sent}, two wrong ${wrong.join(', ')}, the right one ${signedIn}`
		);

		// Counted like any wrong guess: the pair's limit holds it.
		expect(tally(refusals)).toEqual({
			'code checked': limits.perEmailAndNetwork.limit,
			limited: attempts - limits.perEmailAndNetwork.limit
		});
		// The same sentence and status as a wrong guess at a live code.
		expect([...messages]).toEqual(['400 That code is not valid. Check the newest email from us, or send a new code.']);
		expect([...ownerMessages]).toEqual([...messages]);
		expect(sent).toBe('ok');
		expect(wrong).toEqual(['code checked', 'code checked']);
		expect(signedIn).toBe('ok');
	});

	it(
		'300 probes at 300 addresses, some with a code waiting: one answer for all, each counted against the prober',
		async () => {
			const { app } = suite;
			const { send, verify } = signInActions(app);
			const prober = newVisitor();
			const perNetwork = app.config.signInLimits.verifyCode.perNetwork.limit;
			const batches = 6;
			const perBatch = 50;
			const answers = new Map<string, number>();
			const owners: string[] = [];
			for (let batch = 0; batch < batches; batch++) {
				if (batch > 0) clock.advance(FIFTEEN_MINUTES);
				const targets = Array.from({ length: perBatch }, (_, i) => ({
					email: newEmail(`probed-${batch}-${i}`),
					owner: i % 2 === 0 ? newVisitor() : null
				}));
				for (const { email, owner } of targets) if (owner) expect(await send(email, owner)).toBeNull();
				for (const { email } of targets) {
					const refusal = await verify(email, wrongCode(0, latestCodeTo(app, email)), prober);
					const answer = `${refusal?.status} ${refusal?.message}`;
					answers.set(answer, (answers.get(answer) ?? 0) + 1);
				}
				// Two wrong tries of their own and the right code: a probe that had spent one would leave none.
				for (const { email, owner } of targets) {
					if (!owner) continue;
					const code = latestCodeTo(app, email)!;
					const tries = [];
					for (let i = 1; i <= 2; i++) tries.push(outcome(await verify(email, wrongCode(i, code), owner)));
					tries.push(outcome(await verify(email, code, owner)));
					owners.push(tries.join(' '));
				}
			}
			// The prober's network has used perBatch of its window: the rest of it, and then no more.
			const more: string[] = [];
			for (let i = 0; i <= perNetwork - perBatch; i++) {
				more.push(outcome(await verify(newEmail('probed-more'), wrongCode(i, undefined), prober)));
			}
			console.log(
				`${batches * perBatch} probes at as many addresses, half with a code waiting (${dialect}): ` +
					`${JSON.stringify(Object.fromEntries(answers))}; owners ${JSON.stringify(tally(owners))}; ` +
					`${more.length} more probes in the last window: ${JSON.stringify(tally(more))}`
			);

			expect(Object.fromEntries(answers)).toEqual({
				'400 That code is not valid. Check the newest email from us, or send a new code.': batches * perBatch
			});
			expect(tally(owners)).toEqual({ 'code checked code checked ok': (batches * perBatch) / 2 });
			expect(tally(more)).toEqual({ 'code checked': perNetwork - perBatch, limited: 1 });
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		"a stranger who sends at every limit and probes between every step never keeps the owner's known browser out",
		async () => {
			const { app } = suite;
			const { send, verify } = signInActions(app);
			const email = newEmail('kept-out');
			const home = newVisitor();
			const knownDevice = knownDeviceCookieFrom(app, await signIn(app, email, { visitor: home }));
			const owner: Visitor = { ...home, cookie: knownDevice };
			const strangers = Array.from({ length: 20 }, () => newVisitor());
			const probe = async () => {
				const results = [];
				for (const stranger of strangers) {
					// Whatever code the stranger holds (its own, sent to the owner's mailbox) is burnt too.
					results.push(outcome(await verify(email, wrongCode(results.length, latestCodeTo(app, email)), stranger)));
				}
				return results;
			};
			const rounds: string[] = [];
			const strangerSends: string[] = [];
			const strangerGuesses: string[] = [];
			for (let round = 0; round < 10; round++) {
				if (round > 0) clock.advance(FIFTEEN_MINUTES);
				for (const stranger of strangers) {
					for (let i = 0; i < 6; i++) strangerSends.push(outcome(await send(email, stranger)));
				}
				strangerGuesses.push(...(await probe()));
				const sent = outcome(await send(email, owner));
				strangerGuesses.push(...(await probe()));
				const code = latestCodeTo(app, email)!;
				for (const stranger of strangers) strangerSends.push(outcome(await send(email, stranger)));
				strangerGuesses.push(...(await probe()));
				rounds.push(`${sent} ${outcome(await verify(email, code, owner))}`);
			}
			console.log(
				`the owner's known browser against 20 strangers at every limit (${dialect}): rounds ${JSON.stringify(tally(rounds))}; ` +
					`the strangers' sends ${JSON.stringify(tally(strangerSends))}, guesses ${JSON.stringify(tally(strangerGuesses))}`
			);

			expect(rounds).toEqual(Array<string>(10).fill('ok ok'));
			// The strangers were at every limit, and their guesses reached code checks until it held them.
			expect(tally(strangerSends).limited).toBeGreaterThan(0);
			expect(tally(strangerGuesses).ok).toBeUndefined();
			expect(tally(strangerGuesses)['code checked']).toBeGreaterThan(0);
			expect(tally(strangerGuesses).limited).toBeGreaterThan(0);
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		'while a stranger attacks the address, the owner re-authenticates and signs out the stolen session',
		async () => {
			const { app } = suite;
			const service = signInServiceOf(app);
			const { send, verify } = signInActions(app, service);
			const reauth = reauthActions(app, service);
			const email = newEmail('stolen');
			const strangers = Array.from({ length: 20 }, () => newVisitor());
			const attack = async () => {
				for (const stranger of strangers) {
					await send(email, stranger);
					await verify(email, wrongCode(0, latestCodeTo(app, email)), stranger);
				}
			};
			const results: string[] = [];
			for (let round = 0; round < 10; round++) {
				if (round > 0) clock.advance(FIFTEEN_MINUTES);
				const thief = { ...newVisitor(), cookie: sessionCookieFrom(await signIn(app, email)) };
				const home = newVisitor();
				const response = await signIn(app, email, { visitor: home });
				let ownerCookie = sessionCookieFrom(response);
				const { user, session } = await app.validator.validateSessionCookie(ownerCookie);
				const who = { email, userId: user!.id, sessionId: session!.id };
				const owner: Visitor = { ...home, cookie: ownerCookie };

				await attack();
				const sent = outcome(await reauth.send(owner, who));
				const code = latestCodeTo(app, email)!;
				await attack();
				const verified = await asFormAction(app, owner, (event) =>
					verifyReauthenticationCode(service, event, { ...who, code, rememberMe: false })
				);
				const newCookie = verified.setCookies.find((line) => /session_token=/.test(line) && !/Max-Age=0/.test(line));
				if (!newCookie) throw new Error(`re-authentication: ${outcome(verified.outcome)}, ${sent}`);
				ownerCookie = newCookie.split(';')[0]!;
				const fresh = await app.validator.validateSessionCookie(ownerCookie);
				const ended = await revokeOtherSessions(
					{
						userId: fresh.user!.id,
						sessionId: fresh.session!.id,
						ipAddress: owner.address,
						userAgent: owner.userAgent
					},
					app.services
				);
				const thiefAfter = (await app.validator.validateSessionCookie(thief.cookie)).session
					? 'signed in'
					: 'signed out';
				results.push(`${sent} ${outcome(verified.outcome)} ended ${ended > 0 ? 'some' : 'none'} thief ${thiefAfter}`);
			}
			console.log(`re-authentication under attack (${dialect}): ${JSON.stringify(tally(results))}`);

			expect(results).toEqual(Array<string>(10).fill('ok ok ended some thief signed out'));
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		"re-authentication works while the email's limits are used up, and has limits of its own",
		async () => {
			const { app } = suite;
			const service = signInServiceOf(app);
			const { send } = signInActions(app, service);
			const email = newEmail('reauth');
			const home = newVisitor();
			const sessionCookie = sessionCookieFrom(await signIn(app, email, { visitor: home }));
			const { user, session } = await app.validator.validateSessionCookie(sessionCookie);
			const who = { email, userId: user!.id, sessionId: session!.id };

			await exhaustEmailCeiling(app, service, email, 60);
			const fromHome = [];
			for (let i = 0; i < 10; i++) fromHome.push(outcome(await send(email, home)));
			const emailHeld = fromHome.at(-1);
			const signedIn: Visitor = { ...home, cookie: sessionCookie };
			const reauth = reauthActions(app, service);
			const resent = outcome(await reauth.send(signedIn, who));
			const ownLimit = app.config.signInLimits.reauthSendCode.perSession.limit;
			const ownSends: string[] = [];
			for (let i = 0; i <= ownLimit; i++) ownSends.push(outcome(await reauth.send(signedIn, who)));
			const before = await sessionCount();
			const reauthenticated = outcome(await reauth.verify(signedIn, who, latestCodeTo(app, email)!));
			const after = await sessionCount();
			console.log(
				`re-authentication with the email held (${dialect}): sign-in send ${emailHeld}; re-auth send ${resent}, ` +
					`${ownLimit + 1} more from that session: ${JSON.stringify(tally(ownSends))}; the code ${reauthenticated}`
			);

			expect(tally(fromHome)).toEqual({ limited: 10 });
			expect(emailHeld).toBe('limited');
			expect(resent).toBe('ok');
			expect(reauthenticated).toBe('ok');
			// The new session replaces the one it re-authenticated.
			expect(after).toBe(before);
			expect((await app.validator.validateSessionCookie(sessionCookie)).session).toBeNull();
			// One send above came from the same session's counter.
			expect(tally(ownSends)).toEqual({ ok: ownLimit - 1, limited: 2 });
		},
		MANY_REQUESTS_TIMEOUT_MS
	);

	it(
		"a session that spends its re-authentication limits for the day does not hold the user's other sessions",
		async () => {
			const { app } = suite;
			const service = signInServiceOf(app);
			const reauth = reauthActions(app, service);
			const email = newEmail('reauth-daily');
			const whoIs = async (cookie: string) => {
				const { user, session } = await app.validator.validateSessionCookie(cookie);
				return { email, userId: user!.id, sessionId: session!.id };
			};
			const thief = { ...newVisitor(), cookie: sessionCookieFrom(await signIn(app, email)) };
			const owner = { ...newVisitor(), cookie: sessionCookieFrom(await signIn(app, email)) };
			const thiefIs = await whoIs(thief.cookie);
			const ownerIs = await whoIs(owner.cookie);

			const daily = app.config.signInLimits.reauthSendCode.perSessionDaily.limit;
			const thiefSends: string[] = [];
			while (thiefSends.filter((sent) => sent === 'ok').length < daily && thiefSends.length < 4 * daily) {
				const sent = outcome(await reauth.send(thief, thiefIs));
				thiefSends.push(sent);
				if (sent === 'limited') clock.advance(FIFTEEN_MINUTES);
			}
			clock.advance(FIFTEEN_MINUTES);
			const thiefHeld = outcome(await reauth.send(thief, thiefIs));
			const ownerSend = outcome(await reauth.send(owner, ownerIs));
			console.log(
				`re-authentication, one session's daily limit spent (${dialect}): ${JSON.stringify(tally(thiefSends))}; ` +
					`that session then ${thiefHeld}; the user's other session: send ${ownerSend}`
			);

			expect(tally(thiefSends).ok).toBe(daily);
			expect(thiefHeld).toBe('limited');
			expect(ownerSend).toBe('ok');
		},
		MANY_REQUESTS_TIMEOUT_MS
	);
});

describe.each([
	{ origin: 'http://localhost:5173', name: 'latchkey.known_device', secure: false },
	{ origin: 'https://auth.example.test', name: '__Host-latchkey.known_device', secure: true }
])('the known-device cookie on $origin', ({ origin, name, secure }) => {
	const suite = useScratchApp('sqlite', { env: { ORIGIN: origin } });

	it('is set by every sign-in in that browser, HttpOnly, SameSite=Lax, long-lived, without the address in clear', async () => {
		const { app } = suite;
		const visitor = newVisitor();
		const first = await signIn(app, newEmail('first'), { visitor });
		const line = first.headers.getSetCookie().find((candidate) => candidate.startsWith(`${name}=`));
		const cookie = knownDeviceCookieFrom(app, first);
		const second = await signIn(app, newEmail('second'), { visitor, cookie });
		const both = knownDeviceCookieFrom(app, second);
		console.log(`known-device cookie on ${origin}: ${line?.replace(/=[^;]+/, '=…')}`);

		const attributes = line!.split(';').map((part) => part.trim().toLowerCase());
		expect(attributes).toEqual(
			expect.arrayContaining(['httponly', 'samesite=lax', 'path=/', `max-age=${365 * 24 * 3600}`])
		);
		expect(attributes.includes('secure')).toBe(secure);
		expect(attributes.some((attribute) => attribute.startsWith('domain'))).toBe(false);
		expect(line).not.toMatch(/@|example/);
		// The second sign-in keeps the first address's tag and adds its own.
		expect(both.split('=')[1]!.split('.')).toHaveLength(2);
		expect(both).toContain(cookie.split('=')[1]!);
	});
});

describe.each(DIALECTS)('with Redis as Better Auth secondary storage, on %s', (dialect) => {
	const redis = new Redis(REDIS_URL);
	afterAll(() => redis.quit());
	const suite = useScratchApp(dialect, { redis });

	it('keeps codes in the database, bound to the browser, and counts a try without one like a wrong code', async () => {
		const { app } = suite;
		const { send, verify } = signInActions(app);
		const email = newEmail('redis');
		const prober = newVisitor();
		const visitor = newVisitor();
		const pairLimit = app.config.signInLimits.verifyCode.perEmailAndNetwork.limit;

		const before = [];
		for (let i = 0; i < 15; i++) before.push(outcome(await verify(email, wrongCode(i, undefined), prober)));
		const sent = outcome(await send(email, visitor));
		const wrong = outcome(await verify(email, wrongCode(0, latestCodeTo(app, email)), visitor));
		const signedIn = outcome(await verify(email, latestCodeTo(app, email)!, visitor));

		expect(tally(before)).toEqual({ 'code checked': pairLimit, limited: 15 - pairLimit });
		expect([sent, wrong, signedIn]).toEqual(['ok', 'code checked', 'ok']);
		expect(await redis.keys(`latchkey:auth:*${email}*`)).toEqual([]);
	});
});
