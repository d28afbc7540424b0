import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/lib/server/auth/otp-sign-in';
import { authRequest, newVisitor, sessionCookieFrom, signIn, signInActions, verifyAtOnce } from './support/app';
import { wrongCode } from './support/brute-force';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';
import { sessionRows, tableNames } from './support/rows';

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

describe.each(DIALECTS)('email-OTP sign-in on %s', (dialect) => {
	const suite = useScratchApp(dialect);

	const validate = (cookie: string) => suite.app.validator.validateSessionCookie(cookie);

	it('migrates an empty database to every table, and a second run changes nothing', async () => {
		expect(await tableNames(suite.app.database)).toEqual(
			expect.arrayContaining(['user', 'session', 'account', 'verification'])
		);
		await expect(suite.app.database.migrate()).resolves.toBeUndefined();
	});

	it('sends a code, signs in, validates the cookie and signs out', async () => {
		const laptop = newVisitor();
		const { send } = signInActions(suite.app);
		expect(await send(normalizeEmail('Ada@Example.com')!, laptop)).toBeNull();
		const [mail] = suite.app.outbox.list();
		expect(mail?.to).toBe('ada@example.com');
		expect(mail?.code).toMatch(/^\d{8}$/);
		expect(mail?.text).toContain(mail!.code!);

		const signedIn = await signIn(suite.app, 'ada@example.com', { visitor: laptop });
		expect(signedIn.status).toBe(200);
		const cookie = sessionCookieFrom(signedIn);

		const rows = await sessionRows(suite.app.database);
		expect(rows).toHaveLength(1);
		const row = rows[0]!;
		expect(row.userId).toBeTruthy();
		expect(decodeURIComponent(cookie)).toContain(row.token);
		expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + SEVEN_DAYS_MS - 60_000);
		expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + SEVEN_DAYS_MS);
		expect(row.ipAddress).toBe(laptop.address);
		expect(row.userAgent).toBe(laptop.userAgent);
		expect(row.policy).toBe('standard');

		const validated = await validate(cookie);
		expect(validated.user?.email).toBe('ada@example.com');
		expect(validated.session?.id).toBe(row.id);

		const signOut = await suite.app.auth.handler(authRequest(suite.app, '/sign-out', laptop, { cookie, body: {} }));
		expect(signOut.status).toBe(200);
		expect(await sessionRows(suite.app.database)).toHaveLength(0);
		expect((await validate(cookie)).session).toBeNull();
	});

	it('kills a code after three wrong tries from the browser that asked for it', async () => {
		const { send, verify } = signInActions(suite.app);
		const browser = newVisitor();
		expect(await send('grace@example.com', browser)).toBeNull();
		const code = suite.app.outbox.list()[0]!.code!;
		const wrong = wrongCode(0, code);
		const statuses: Array<number | 'signed in'> = [];
		for (const otp of [wrong, wrong, wrong, code]) {
			statuses.push((await verify('grace@example.com', otp, browser))?.status ?? 'signed in');
		}
		expect(statuses).toEqual([400, 400, 400, 403]);
		expect(await sessionRows(suite.app.database)).toHaveLength(0);
	});

	it("never lets another browser's tries reach a code: the browser that asked still signs in with it", async () => {
		const { send, verify } = signInActions(suite.app);
		const owner = newVisitor();
		expect(await send('hedy@example.com', owner)).toBeNull();
		const code = suite.app.outbox.list()[0]!.code!;
		const others = [];
		// The right code too: it is this browser's, not the address's.
		for (const otp of [wrongCode(0, code), wrongCode(1, code), wrongCode(2, code), code]) {
			others.push((await verify('hedy@example.com', otp, newVisitor()))?.message);
		}
		expect(new Set(others)).toEqual(
			new Set(['That code is not valid. Check the newest email from us, or send a new code.'])
		);
		expect(await verify('hedy@example.com', code, owner)).toBeNull();
		expect(await sessionRows(suite.app.database)).toHaveLength(1);
	});

	it('signs in every browser of a new address that proves it at the same moment, into one account', async () => {
		const email = `first-at-once-${dialect}@example.com`;
		const outcomes = await verifyAtOnce(suite.app, email, 10);

		expect(outcomes).toEqual(Array.from({ length: 10 }, () => null));
		const user = await suite.app.database.users.findByEmail(email);
		const sessions = (await sessionRows(suite.app.database)).filter((row) => row.userId === user!.id);
		expect(sessions).toHaveLength(10);
	});

	it('keeps each browser of the same person its own live code', async () => {
		const { send, verify } = signInActions(suite.app);
		const [laptop, phone] = [newVisitor(), newVisitor()];
		expect(await send('joan@example.com', laptop)).toBeNull();
		const laptopCode = suite.app.outbox.list()[0]!.code!;
		expect(await send('joan@example.com', phone)).toBeNull();
		const phoneCode = suite.app.outbox.list()[0]!.code!;
		const before = (await sessionRows(suite.app.database)).length;
		expect(await verify('joan@example.com', laptopCode, laptop)).toBeNull();
		expect(await verify('joan@example.com', phoneCode, phone)).toBeNull();
		expect(await sessionRows(suite.app.database)).toHaveLength(before + 2);
	});

	it('refuses a cookie signed with another secret', async () => {
		const cookie = sessionCookieFrom(await signIn(suite.app, 'linus@example.com'));
		expect((await validate(cookie)).session).not.toBeNull();

		const [name, value] = cookie.split('=') as [string, string];
		const token = decodeURIComponent(value).split('.')[0]!;
		const otherSignature = createHmac('sha256', 'another-secret-of-at-least-32-characters')
			.update(token)
			.digest('base64');
		const forged = `${name}=${encodeURIComponent(`${token}.${otherSignature}`)}`;
		expect((await validate(forged)).session).toBeNull();
	});
});
