import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRequestSession } from '../../src/lib/server/auth/session';
import type { Database } from '../../src/lib/server/db';
import { authRequest, sessionCookieFrom, startTestApp, type TestApp, type Visitor } from './support/app';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;
let visitors = 0;

/** A browser at an address of its own: Better Auth limits its OTP endpoints to 3 calls a minute per address. */
function newVisitor(): Visitor {
	visitors += 1;
	return { address: `203.0.113.${visitors}`, userAgent: `Mozilla/5.0 (X11; Linux x86_64) IntegrationTest/${visitors}` };
}

function sessionRows(database: Database) {
	return database.dialect === 'sqlite'
		? database.db.select().from(database.schema.session).all()
		: database.db.select().from(database.schema.session);
}

async function tableNames(database: Database): Promise<string[]> {
	if (database.dialect === 'sqlite') {
		const rows = database.client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
			name: string;
		}[];
		return rows.map((row) => row.name);
	}
	const result = await database.client.query<{ table_name: string }>(
		"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	);
	return result.rows.map((row) => row.table_name);
}

describe.each(DIALECTS)('email-OTP sign-in on %s', (dialect) => {
	let scratch: ScratchDatabase;
	let app: TestApp;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		app = await startTestApp(scratch.target);
	});

	afterAll(async () => {
		await app?.database.close();
		await scratch?.drop();
	});

	it('migrates an empty database to every table, and a second run changes nothing', async () => {
		expect(await tableNames(app.database)).toEqual(
			expect.arrayContaining(['user', 'session', 'account', 'verification'])
		);
		const { migrateDatabase } = await import('../../src/lib/server/db');
		await expect(migrateDatabase(app.database)).resolves.toBeUndefined();
	});

	it('sends a code, signs in, validates the cookie and signs out', async () => {
		const laptop = newVisitor();
		const send = await app.auth.handler(
			authRequest('/email-otp/send-verification-otp', laptop, { body: { email: 'Ada@Example.com', type: 'sign-in' } })
		);
		expect(send.status).toBe(200);
		const [mail] = app.outbox.list();
		expect(mail?.to).toBe('ada@example.com');
		expect(mail?.code).toMatch(/^\d{6}$/);
		expect(mail?.text).toContain(mail!.code!);

		const signIn = await app.auth.handler(
			authRequest('/sign-in/email-otp', laptop, { body: { email: 'ada@example.com', otp: mail!.code } })
		);
		expect(signIn.status).toBe(200);
		const cookie = sessionCookieFrom(signIn);

		const rows = await sessionRows(app.database);
		expect(rows).toHaveLength(1);
		const row = rows[0]!;
		expect(row.userId).toBeTruthy();
		expect(cookie).toContain(row.token);
		expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + SEVEN_DAYS_MS - 60_000);
		expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + SEVEN_DAYS_MS);
		expect(row.ipAddress).toBe(laptop.address);
		expect(row.userAgent).toBe(laptop.userAgent);

		const validated = await validateRequestSession(app.auth, new Headers({ cookie }));
		expect(validated?.user.email).toBe('ada@example.com');
		expect(validated?.session.id).toBe(row.id);

		const signOut = await app.auth.handler(authRequest('/sign-out', laptop, { cookie, body: {} }));
		expect(signOut.status).toBe(200);
		expect(await sessionRows(app.database)).toHaveLength(0);
		expect(await validateRequestSession(app.auth, new Headers({ cookie }))).toBeNull();
	});

	it('kills a code after three wrong tries', async () => {
		const laptop = newVisitor();
		await app.auth.handler(
			authRequest('/email-otp/send-verification-otp', laptop, { body: { email: 'grace@example.com', type: 'sign-in' } })
		);
		const code = app.outbox.list()[0]!.code!;
		const wrong = code === '000000' ? '111111' : '000000';
		const statuses: number[] = [];
		for (const otp of [wrong, wrong, wrong, code]) {
			const response = await app.auth.handler(
				authRequest('/sign-in/email-otp', newVisitor(), { body: { email: 'grace@example.com', otp } })
			);
			statuses.push(response.status);
		}
		expect(statuses).toEqual([400, 400, 400, 403]);
		expect(await sessionRows(app.database)).toHaveLength(0);
	});

	it('refuses a cookie signed with another secret', async () => {
		const laptop = newVisitor();
		await app.auth.handler(
			authRequest('/email-otp/send-verification-otp', laptop, { body: { email: 'linus@example.com', type: 'sign-in' } })
		);
		const signIn = await app.auth.handler(
			authRequest('/sign-in/email-otp', laptop, {
				body: { email: 'linus@example.com', otp: app.outbox.list()[0]!.code }
			})
		);
		const cookie = sessionCookieFrom(signIn);
		expect(await validateRequestSession(app.auth, new Headers({ cookie }))).not.toBeNull();

		const [name, value] = cookie.split('=') as [string, string];
		const token = decodeURIComponent(value).split('.')[0]!;
		const otherSignature = createHmac('sha256', 'another-secret-of-at-least-32-characters')
			.update(token)
			.digest('base64');
		const forged = `${name}=${encodeURIComponent(`${token}.${otherSignature}`)}`;
		expect(await validateRequestSession(app.auth, new Headers({ cookie: forged }))).toBeNull();
	});
});
