import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CODE_LIFETIME_SECONDS, CODE_TRIES } from '../../src/lib/server/auth/codes';
import {
	confirmEmailChange,
	requestEmailChange,
	type EmailChanger,
	type EmailChangeService
} from '../../src/lib/server/auth/email-change';
import { REFUSALS } from '../../src/lib/server/auth/otp-sign-in';
import { databaseRateLimiter } from '../../src/lib/server/rate-limit';
import { listSecurityEvents } from '../../src/lib/server/security-log';
import { newVisitor, sessionCookieFrom, signIn, TestClock, type TestApp } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';

let people = 0;
const newEmail = (label: string) => `${label}-${process.pid}-${++people}@example.com`;

/** What the account page's actions use, on the test app's database, outbox and clock. */
function emailChangeServiceOf(app: TestApp): EmailChangeService {
	const now = app.clock ?? Date.now;
	const limits = app.config.signInLimits;
	return {
		codes: { rows: app.database.codes, secret: app.config.secret, now },
		mailer: app.outbox,
		limiter: databaseRateLimiter(app.database, now),
		limits: { send: limits.emailChangeSendCode, verify: limits.emailChangeVerifyCode },
		sessions: app.services
	};
}

/** A signed-in browser: its cookie, and the user as the account page's actions see them. */
interface Device {
	cookie: string;
	token: string;
	who: EmailChanger;
}

describe.each(DIALECTS)('changing the email address on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock });

	async function signInDevice(email: string): Promise<Device> {
		const visitor = newVisitor();
		const cookie = sessionCookieFrom(await signIn(suite.app, email, { visitor }));
		const { user, session } = await suite.app.validator.validateSessionCookie(cookie);
		return {
			cookie,
			token: session!.token,
			who: {
				userId: user!.id,
				sessionId: session!.id,
				ipAddress: visitor.address,
				userAgent: visitor.userAgent,
				email: user!.email
			}
		};
	}

	const userOf = async (device: Device) => (await suite.app.validator.validateSessionCookie(device.cookie)).user;
	const mailsTo = (email: string) => suite.app.outbox.list().filter((message) => message.to === email);
	const codeTo = (email: string) => mailsTo(email)[0]?.code;

	async function request(device: Device, typed: string) {
		return requestEmailChange(emailChangeServiceOf(suite.app), device.who, typed);
	}

	async function confirm(device: Device, email: string, code: string) {
		return confirmEmailChange(emailChangeServiceOf(suite.app), device.who, {
			email,
			code,
			sessionToken: device.token
		});
	}

	/** A code that is not `code`: the same digits, the last one changed. */
	const wrong = (code: string) => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);

	it('moves the account to the new address, ends the other sessions with reason email-changed and keeps this one', async () => {
		const old = newEmail('before');
		const laptop = await signInDevice(old);
		const phone = await signInDevice(old);
		const tablet = await signInDevice(old);
		const bystander = await signInDevice(newEmail('bystander'));
		const next = newEmail('nadia');

		expect(await request(laptop, `  ${next.toUpperCase()} `)).toEqual({ refusal: null, email: next });
		const code = codeTo(next)!;
		expect(code).toMatch(/^\d{8}$/);
		const linesBefore = suite.app.logLines.length;
		expect(await confirm(laptop, next, code)).toBeNull();

		expect(await userOf(laptop)).toMatchObject({ id: laptop.who.userId, email: next, emailVerified: true });
		expect(await userOf(phone)).toBeNull();
		expect(await userOf(tablet)).toBeNull();
		expect(await userOf(bystander)).not.toBeNull();
		// Their next visit to the sign-in page says why.
		for (const device of [phone, tablet])
			expect((await suite.app.validator.validateSessionCookie(device.cookie)).endedReason).toBe('email-changed');
		const ended = suite.app.logLines
			.slice(linesBefore)
			.map((line) => JSON.parse(line) as Record<string, unknown>)
			.filter((line) => line.event === 'session.revoked');
		expect(ended).toHaveLength(2);
		expect(ended.every((line) => line.reason === 'email-changed' && line.user === laptop.who.userId)).toBe(true);

		const [event] = (await listSecurityEvents(suite.app.database, laptop.who.userId, 1)).events;
		expect(event).toMatchObject({
			type: 'EMAIL_CHANGED',
			detail: { from: 'b***@example.com', to: 'n***@example.com', sessions: 2 }
		});
		expect(JSON.stringify(event)).not.toContain(old);
		expect(JSON.stringify(event)).not.toContain(next);

		const [notice] = mailsTo(old);
		expect(notice!.subject).toBe('Your Latchkey email address was changed');
		expect(notice!.text).toContain('changed to n***@example.com');
		expect(notice!.text).toMatch(/If this wasn’t you/);
		expect(notice!.text).not.toContain(next);
		expect(notice!.code).toBeUndefined();
		// The code is spent: it changes nothing a second time.
		expect(await confirm(laptop, next, code)).toEqual(REFUSALS.wrong);
	});

	it('signs in with the new address afterwards, and the old one no longer reaches the account', async () => {
		const old = newEmail('old');
		const device = await signInDevice(old);
		const next = newEmail('new');
		await request(device, next);
		expect(await confirm(device, next, codeTo(next)!)).toBeNull();

		const again = await signInDevice(next);
		expect(again.who.userId).toBe(device.who.userId);
		expect(await suite.app.database.users.findByEmail(old)).toBeNull();
		const stranger = await signInDevice(old);
		expect(stranger.who.userId).not.toBe(device.who.userId);
		expect(stranger.who.email).toBe(old);
	});

	it('takes the code only from the session that asked for it', async () => {
		const email = newEmail('owner');
		const laptop = await signInDevice(email);
		const phone = await signInDevice(email);
		const next = newEmail('wanted');
		await request(laptop, next);
		const code = codeTo(next)!;

		expect(await confirm(phone, next, code)).toEqual(REFUSALS.wrong);
		expect(await userOf(laptop)).toMatchObject({ email });
		expect(await confirm(laptop, next, code)).toBeNull();
		expect(await userOf(phone)).toBeNull();
	});

	it('takes the code only for the address it was sent to', async () => {
		const email = newEmail('owner');
		const laptop = await signInDevice(email);
		const next = newEmail('sent-to');
		const other = newEmail('not-sent-to');
		await request(laptop, next);
		const code = codeTo(next)!;

		expect(await confirm(laptop, other, code)).toEqual(REFUSALS.wrong);
		expect(await suite.app.database.users.findByEmail(other)).toBeNull();
		expect(await userOf(laptop)).toMatchObject({ email });
		expect(await confirm(laptop, next, code)).toBeNull();
	});

	it('refuses an expired code, and a code after too many wrong tries', async () => {
		const email = newEmail('slow');
		const laptop = await signInDevice(email);
		const next = newEmail('late');
		await request(laptop, next);
		clock.advance(CODE_LIFETIME_SECONDS);
		expect(await confirm(laptop, next, codeTo(next)!)).toEqual(REFUSALS.expired);

		const guessed = newEmail('guessed');
		await request(laptop, guessed);
		const code = codeTo(guessed)!;
		for (let i = 0; i < CODE_TRIES; i++) expect(await confirm(laptop, guessed, wrong(code))).toEqual(REFUSALS.wrong);
		expect(await confirm(laptop, guessed, code)).toEqual(REFUSALS['used-up']);
		expect(await userOf(laptop)).toMatchObject({ email });
	});

	it('answers a taken address as a free one, mails its owner no code, and never confirms it', async () => {
		const taken = newEmail('taken');
		const owner = await signInDevice(taken);
		const asker = await signInDevice(newEmail('asker'));
		const free = newEmail('free');

		const forFree = await request(asker, free);
		const forTaken = await request(asker, taken);
		expect(forTaken).toEqual({ ...forFree, email: taken });
		const [notice] = mailsTo(taken).filter((message) => message.subject !== 'Your Latchkey sign-in code');
		expect(notice!.code).toBeUndefined();
		expect(notice!.text).not.toMatch(/\d{8}/);
		// The free address's code was replaced by the taken one's, which nobody was sent.
		expect(await confirm(asker, free, codeTo(free)!)).toEqual(REFUSALS.wrong);
		expect(await confirm(asker, taken, codeTo(free)!)).toEqual(REFUSALS.wrong);

		expect(await userOf(owner)).toMatchObject({ id: owner.who.userId, email: taken });
		expect(await userOf(asker)).toMatchObject({ email: asker.who.email });
	});

	it('answers as a wrong code when the address was taken after the code was sent, changing nothing', async () => {
		const email = newEmail('slower');
		const laptop = await signInDevice(email);
		const phone = await signInDevice(email);
		const next = newEmail('raced');
		await request(laptop, next);
		const code = codeTo(next)!;
		const first = await signInDevice(next);

		expect(await confirm(laptop, next, code)).toEqual(REFUSALS.wrong);
		expect(await userOf(laptop)).toMatchObject({ email });
		expect(await userOf(phone)).not.toBeNull();
		expect(await userOf(first)).toMatchObject({ email: next });
	});

	it('holds the codes a session may ask for to its limit', async () => {
		const laptop = await signInDevice(newEmail('many'));
		const limit = suite.app.config.signInLimits.emailChangeSendCode.perSession.limit;
		for (let i = 0; i < limit; i++) expect((await request(laptop, newEmail('try'))).refusal).toBeNull();
		const refused = await request(laptop, newEmail('one-more'));
		expect(refused.refusal).toMatchObject({ status: 429, message: expect.stringMatching(/^Too many codes sent/) });
	});

	it('refuses an address that cannot be one, or the one the user has, with a message', async () => {
		const email = newEmail('same');
		const laptop = await signInDevice(email);
		expect((await request(laptop, 'not an address')).refusal?.message).toMatch(/Enter the new email address in full/);
		expect((await request(laptop, email.toUpperCase())).refusal?.message).toMatch(/already your address/);
	});
});

describe.each(DIALECTS)('changing the email address with Redis on %s', (dialect) => {
	const redis = new Redis('redis://127.0.0.1:6379');
	afterAll(() => redis.quit());
	const suite = useScratchApp(dialect, { redis });

	it("leaves Better Auth no cached copy of this session's user with the old address, nor of the ended sessions", async () => {
		const old = newEmail('cached');
		const laptopCookie = sessionCookieFrom(await signIn(suite.app, old));
		const phoneCookie = sessionCookieFrom(await signIn(suite.app, old));
		const { user, session } = await suite.app.validator.validateSessionCookie(laptopCookie);
		const who = { userId: user!.id, sessionId: session!.id, ipAddress: null, userAgent: null, email: old };
		const betterAuthSees = async (cookie: string) =>
			(await suite.app.auth.api.getSession({ headers: new Headers({ cookie }) }))?.user.email ?? null;
		expect(await betterAuthSees(laptopCookie)).toBe(old);

		const next = newEmail('recached');
		const service = emailChangeServiceOf(suite.app);
		await requestEmailChange(service, who, next);
		const code = suite.app.outbox.list().find((message) => message.to === next)!.code!;
		expect(await confirmEmailChange(service, who, { email: next, code, sessionToken: session!.token })).toBeNull();

		expect(await betterAuthSees(laptopCookie)).toBe(next);
		expect(await betterAuthSees(phoneCookie)).toBeNull();
	});
});
