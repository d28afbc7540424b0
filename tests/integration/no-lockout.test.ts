import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceTag, knownDeviceCookieName } from '../../src/lib/server/auth/known-device';
import {
	sendReauthenticationCode,
	verifyReauthenticationCode,
	type SignInRefusal,
	type SignInService
} from '../../src/lib/server/auth/otp-sign-in';
import { databaseRateLimiter } from '../../src/lib/server/rate-limit';
import {
	formRequest,
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
	if (/No code is waiting/.test(refusal.message)) return 'no code';
	if (/That code is not valid|Too many wrong codes|has expired/.test(refusal.message)) return 'code checked';
	return `${refusal.status} ${refusal.message}`;
}

function tally(outcomes: string[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const each of outcomes) counts[each] = (counts[each] ?? 0) + 1;
	return counts;
}

/** The sign-in service with its counters on a clock the test moves, so whole days can pass. */
function serviceOnClock(app: TestApp, clock: TestClock): SignInService {
	return { ...signInServiceOf(app), limiter: databaseRateLimiter(app.database, clock.now) };
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
	const suite = useScratchApp(dialect);
	const sessionCount = async () => (await sessionRows(suite.app.database)).length;

	it(
		'a stranger on one network asks and guesses as often as the limits let it, for hours; the victim then signs in from another',
		async () => {
			const { app } = suite;
			const clock = new TestClock();
			const { send, verify } = signInActions(app, serviceOnClock(app, clock));
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
				'new browser, guess': outcome(await verify(email, '000000', newBrowser)),
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

	it('a code attempt when no code is waiting for the address is refused and counts nothing', async () => {
		const { app } = suite;
		const { send, verify } = signInActions(app);
		const email = newEmail('no-code');
		const visitor = newVisitor();
		const limits = app.config.signInLimits.verifyCode;
		const attempts = 2 * limits.perNetwork.limit;

		const refusals: string[] = [];
		for (let i = 0; i < attempts; i++) refusals.push(outcome(await verify(email, wrongCode(i, undefined), visitor)));
		const message = (await verify(email, '123456', visitor))?.message;
		const sent = outcome(await send(email, visitor));
		const wrong = [];
		for (let i = 0; i < 2; i++)
			wrong.push(outcome(await verify(email, wrongCode(i, latestCodeTo(app, email)), visitor)));
		const signedIn = outcome(await verify(email, latestCodeTo(app, email)!, visitor));
		console.log(
			`${attempts} attempts with no code waiting (${dialect}): ${JSON.stringify(tally(refusals))}; ` +
				`then a code: sent ${sent}, two wrong ${wrong.join(', ')}, the right one ${signedIn}`
		);

		expect(tally(refusals)).toEqual({ 'no code': attempts });
		expect(message).toBe('No code is waiting for this address. Send a code first.');
		expect(sent).toBe('ok');
		expect(wrong).toEqual(['code checked', 'code checked']);
		expect(signedIn).toBe('ok');
	});

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
			const resent = outcome(await sendReauthenticationCode(service, formRequest(app, signedIn), who));
			const ownLimit = app.config.signInLimits.reauthSendCode.perSession.limit;
			const ownSends: string[] = [];
			for (let i = 0; i <= ownLimit; i++) {
				ownSends.push(outcome(await sendReauthenticationCode(service, formRequest(app, signedIn), who)));
			}
			const before = await sessionCount();
			const reauthenticated = outcome(
				await verifyReauthenticationCode(service, formRequest(app, signedIn), {
					...who,
					code: latestCodeTo(app, email)!,
					rememberMe: false
				})
			);
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
			const clock = new TestClock();
			const service = serviceOnClock(app, clock);
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
				const sent = outcome(await sendReauthenticationCode(service, formRequest(app, thief), thiefIs));
				thiefSends.push(sent);
				if (sent === 'limited') clock.advance(FIFTEEN_MINUTES);
			}
			clock.advance(FIFTEEN_MINUTES);
			const thiefHeld = outcome(await sendReauthenticationCode(service, formRequest(app, thief), thiefIs));
			const ownerSend = outcome(await sendReauthenticationCode(service, formRequest(app, owner), ownerIs));
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

	it('finds the waiting code where Better Auth keeps it, and refuses without counting when there is none', async () => {
		const { app } = suite;
		const { send, verify } = signInActions(app);
		const email = newEmail('redis');
		const visitor = newVisitor();

		const before = [];
		for (let i = 0; i < 15; i++) before.push(outcome(await verify(email, wrongCode(i, undefined), visitor)));
		const sent = outcome(await send(email, visitor));
		const wrong = outcome(await verify(email, wrongCode(0, latestCodeTo(app, email)), visitor));
		const signedIn = outcome(await verify(email, latestCodeTo(app, email)!, visitor));

		expect(tally(before)).toEqual({ 'no code': 15 });
		expect([sent, wrong, signedIn]).toEqual(['ok', 'code checked', 'ok']);
	});
});
