import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authRequest, newVisitor, sessionCookieFrom, signIn } from './support/app';
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
		const send = await suite.app.auth.handler(
			authRequest(suite.app, '/email-otp/send-verification-otp', laptop, {
				body: { email: 'Ada@Example.com', type: 'sign-in' }
			})
		);
		expect(send.status).toBe(200);
		const [mail] = suite.app.outbox.list();
		expect(mail?.to).toBe('ada@example.com');
		expect(mail?.code).toMatch(/^\d{6}$/);
		expect(mail?.text).toContain(mail!.code!);

		const signedIn = await suite.app.auth.handler(
			authRequest(suite.app, '/sign-in/email-otp', laptop, { body: { email: 'ada@example.com', otp: mail!.code } })
		);
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

	it('kills a code after three wrong tries', async () => {
		await suite.app.auth.handler(
			authRequest(suite.app, '/email-otp/send-verification-otp', newVisitor(), {
				body: { email: 'grace@example.com', type: 'sign-in' }
			})
		);
		const code = suite.app.outbox.list()[0]!.code!;
		const wrong = code === '000000' ? '111111' : '000000';
		const statuses: number[] = [];
		for (const otp of [wrong, wrong, wrong, code]) {
			const response = await suite.app.auth.handler(
				authRequest(suite.app, '/sign-in/email-otp', newVisitor(), { body: { email: 'grace@example.com', otp } })
			);
			statuses.push(response.status);
		}
		expect(statuses).toEqual([400, 400, 400, 403]);
		expect(await sessionRows(suite.app.database)).toHaveLength(0);
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
