import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectionOf } from '../../src/lib/server/db';
import { safeErrorMessage } from '../../src/lib/server/errors';
import {
	latestCodeTo,
	newVisitor,
	sessionCookieFrom,
	signIn,
	signInActions,
	signInServiceOf,
	type TestApp
} from './support/app';
import { sessionRows, updateSessionRow } from './support/rows';
import { SQLITE_FAULTS } from './support/sqlite-faults';
import { useScratchApp } from './support/suite';

const TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000;

/** The token inside a `name=token.signature` cookie. */
const tokenOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;

/** Signs in and returns the cookie; `refreshDue` moves the row's last refresh two days back. */
async function signedInCookie(app: TestApp, email: string, { refreshDue = false } = {}): Promise<string> {
	const cookie = sessionCookieFrom(await signIn(app, email));
	if (refreshDue) {
		const row = (await sessionRows(app.database)).find((candidate) => candidate.token === tokenOf(cookie))!;
		await updateSessionRow(app.database, row.id, { updatedAt: new Date(Date.now() - TWO_DAYS_MS) });
	}
	return cookie;
}

/** The app's SQLite connection and the file it has open. */
function sqliteOf(app: TestApp) {
	const database = connectionOf(app.database);
	const { config } = app;
	if (database.dialect !== 'sqlite' || config.database.dialect !== 'sqlite')
		throw new Error('a SQLite app was expected');
	return { client: database.client, file: config.database.file };
}

/** What a step came to: 'ok', a refusal's status, or the log-safe message of what it threw. */
async function outcomeOf(step: Promise<unknown>): Promise<string> {
	try {
		const result = await step;
		return result && typeof result === 'object' && 'status' in result ? String(result.status) : 'ok';
	} catch (error) {
		return `threw: ${safeErrorMessage(error)}`;
	}
}

describe.each(SQLITE_FAULTS)('SQLite database $name', (fault) => {
	const suite = useScratchApp('sqlite', { lockWaitMs: 250 });
	afterEach(() => vi.restoreAllMocks());

	it('the sign-in steps answer 503 and the refresh fails naming the cause; reads go on; all works once lifted', async () => {
		const { app } = suite;
		// Short, so the test is fast (with lockWaitMs above); the soak test runs the production waits (5 s).
		const { client, file } = sqliteOf(app);
		client.pragma('busy_timeout = 250');
		const { send, verify } = signInActions(app);
		const { limiter, limits } = signInServiceOf(app);
		const due = await signedInCookie(app, 'due@example.com', { refreshDue: true });
		const fresh = await signedInCookie(app, 'fresh@example.com');
		const visitor = newVisitor();
		// Another browser: a browser holds one code, so its own send would replace the one checked.
		const other = newVisitor();
		expect(await send('code@example.com', visitor)).toBeNull();
		const code = latestCodeTo(app, 'code@example.com')!;
		const logged: string[] = [];
		vi.spyOn(console, 'error').mockImplementation((line: unknown) => void logged.push(String(line)));

		const lift = fault.apply(file);
		let during: Record<string, string>;
		try {
			during = {
				'refresh due': await outcomeOf(app.validator.validateSessionCookie(due)),
				'read only': (await app.validator.validateSessionCookie(fresh)).user?.email ?? 'signed out',
				'count an attempt': await outcomeOf(limiter.consume(limits.sendCode.perEmailDaily, 'counted@example.com')),
				'send a code': await outcomeOf(send('other@example.com', other)),
				'check a code': await outcomeOf(verify('code@example.com', code, visitor))
			};
		} finally {
			lift();
		}
		const after = {
			'refresh due': (await app.validator.validateSessionCookie(due)).user?.email ?? 'signed out',
			'send a code': await outcomeOf(send('other@example.com', other)),
			'check a code': await outcomeOf(verify('code@example.com', code, visitor))
		};
		console.log(
			`SQLite ${fault.name}: during ${JSON.stringify(during)}; log ${JSON.stringify(logged)}; after ${JSON.stringify(after)}`
		);

		expect(during['refresh due']).toMatch(fault.cause);
		expect(during['read only']).toBe('fresh@example.com');
		// A counter that could not be written refuses: it never lets an attempt through uncounted.
		expect(during['count an attempt']).toMatch(fault.cause);
		expect(during['send a code']).toBe('503');
		expect(during['check a code']).toBe('503');
		expect(logged.length).toBeGreaterThan(0);
		for (const line of logged) {
			expect(line).toMatch(/^latchkey: [a-z -]+: /);
			expect(line).toMatch(fault.cause);
			for (const cookie of [due, fresh]) expect(line).not.toContain(tokenOf(cookie));
		}
		expect(after).toEqual({ 'refresh due': 'due@example.com', 'send a code': 'ok', 'check a code': 'ok' });
	});
});
