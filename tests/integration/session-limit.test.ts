import { describe, expect, it } from 'vitest';
import { sessionCookieFrom, signIn, TestClock, verifyAtOnce, type TestApp } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';

const DAY = 24 * 3600;

/** MAX_SESSIONS_PER_USER=2 with the default action, end-oldest: the sign-in flow and its hook, per engine. */
describe.each(DIALECTS)('the concurrent-session limit on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock, env: { MAX_SESSIONS_PER_USER: '2' } });

	const signedIn = async (cookie: string) => (await suite.app.validator.validateSessionCookie(cookie)).session;
	const limitLines = (app: TestApp, userId: string) =>
		app.logLines
			.map((line) => JSON.parse(line) as { event: string; reason?: string; user?: string })
			.filter((line) => line.user === userId && line.reason === 'session-limit');

	it('a sign-in over the limit ends the least recently active session, never the new one, and records it', async () => {
		const email = `limit-oldest-${dialect}@example.com`;
		const first = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);
		const second = sessionCookieFrom(await signIn(suite.app, email));
		// The first browser comes back after a refresh is due: it is now the more recently active.
		clock.advance(DAY + 60);
		expect((await suite.app.validator.validateSessionCookie(first)).cookie?.kind).toBe('reissue');
		clock.advance(60);

		const third = sessionCookieFrom(await signIn(suite.app, email));

		const current = await signedIn(third);
		expect(current).not.toBeNull();
		expect(await signedIn(first)).not.toBeNull();
		expect(await signedIn(second)).toBeNull();
		expect((await suite.app.validator.validateSessionCookie(second)).endedReason).toBe('session-limit');
		const userId = current!.userId;
		expect(limitLines(suite.app, userId)).toEqual([
			expect.objectContaining({ event: 'session.revoked', reason: 'session-limit' })
		]);
		const { rows } = await suite.app.database.securityEvents.page(userId, 10, 0);
		const limitEvents = rows.filter((row) => row.type === 'SESSION_LIMIT_REACHED');
		expect(limitEvents).toHaveLength(1);
		expect(limitEvents[0]!.sessionId).toBe(current!.id);
		expect(JSON.parse(limitEvents[0]!.detail)).toEqual({ sessions: 1, limit: 2 });
	});

	it('a sign-in that replaces the browser’s own session (re-authentication) ends no other device', async () => {
		const email = `limit-replace-${dialect}@example.com`;
		const mine = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);
		const theirs = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);

		const replacement = sessionCookieFrom(await signIn(suite.app, email, { cookie: mine }));

		expect(await signedIn(mine)).toBeNull();
		expect(await signedIn(replacement)).not.toBeNull();
		expect(await signedIn(theirs)).not.toBeNull();
		expect(limitLines(suite.app, (await signedIn(theirs))!.userId)).toEqual([]);
	});

	it('10 sign-ins of one user at once leave at most the limit, never an error, every other ending logged', async () => {
		const email = `limit-race-${dialect}@example.com`;
		await signIn(suite.app, email);
		const outcomes = await verifyAtOnce(suite.app, email, 10);

		// On MySQL Better Auth reads a new session back after inserting it, and another sign-in's
		// limit may end it in between: that browser is told, never given an error page.
		const gaveWay = outcomes.filter((outcome) => outcome !== null);
		for (const outcome of gaveWay)
			expect(outcome).toEqual({ status: 403, message: expect.stringMatching(/same moment/) });
		if (dialect !== 'mysql') expect(gaveWay).toEqual([]);
		const userId = (await suite.app.database.users.findByEmail(email))!.id;
		const left = await suite.app.database.sessions.listActiveByUser(userId, new Date(clock.ms));
		console.log(
			`session limit on ${dialect}: 10 sign-ins at once under a limit of 2 leave ${left.length} signed in; ${gaveWay.length} told another had won`
		);
		expect(left.length).toBeGreaterThanOrEqual(1);
		expect(left.length).toBeLessThanOrEqual(2);
		expect(limitLines(suite.app, userId).length).toBe(11 - left.length);
	});
});

describe('without MAX_SESSIONS_PER_USER', () => {
	const suite = useScratchApp('sqlite');

	it('a user may have any number of sessions', async () => {
		const email = 'no-limit@example.com';
		const cookies = [];
		for (let i = 0; i < 4; i++) cookies.push(sessionCookieFrom(await signIn(suite.app, email)));
		for (const cookie of cookies)
			expect((await suite.app.validator.validateSessionCookie(cookie)).session).not.toBeNull();
	});
});
