import { describe, expect, it } from 'vitest';
import { revokeAllSessions } from '../../src/lib/server/auth/sessions';
import { countingValidator, newVisitor, sessionCookieFrom, signIn, TestClock } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';
import { sessionRows } from './support/rows';

const DAY = 24 * 3600;

describe.each(DIALECTS)('concurrency on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock });

	it('100 requests with the same cookie when a refresh is due: all succeed, one write, one consistent row', async () => {
		const cookie = sessionCookieFrom(await signIn(suite.app, `race-${dialect}@example.com`));
		const { validator, extend } = countingValidator(suite.app, clock);
		clock.advance(DAY);

		const results = await Promise.all(Array.from({ length: 100 }, () => validator.validateSessionCookie(cookie)));
		const writes = await Promise.all(extend.mock.results.map((result) => result.value as Promise<boolean>));
		const rows = (await sessionRows(suite.app.database)).filter((row) => row.id === results[0]!.session?.id);
		const maxAges = new Set(results.map((result) => (result.cookie?.kind === 'reissue' ? result.cookie.maxAge : null)));
		console.log(
			`refresh race on ${dialect}: ${results.filter((result) => result.session).length}/100 signed in, ${writes.filter(Boolean).length} of ${writes.length} UPDATEs wrote`
		);
		expect(results.every((result) => result.session !== null)).toBe(true);
		expect(writes.filter(Boolean)).toHaveLength(1);
		expect(rows).toHaveLength(1);
		expect(rows[0]!.expiresAt.getTime()).toBe(clock.ms + 7 * DAY * 1000);
		// Browser-session cookie (remember-me not ticked): every re-issue says so alike. A request
		// that read the row after the refresh committed (PostgreSQL's pool queues some) has nothing
		// to re-issue (null).
		expect([...maxAges].filter((maxAge) => maxAge !== null)).toEqual([undefined]);
	});

	it('after sign out everywhere commits, no request of the other device is served signed in', async () => {
		const email = `everywhere-race-${dialect}@example.com`;
		const mine = sessionCookieFrom(await signIn(suite.app, email, { visitor: newVisitor() }));
		const theirs = sessionCookieFrom(await signIn(suite.app, email, { visitor: newVisitor() }));
		const me = await suite.app.validator.validateSessionCookie(mine);

		let stop = false;
		const servedAfterCommit: boolean[] = [];
		let committed = false;
		const otherDevice = (async () => {
			while (!stop) {
				const checkStartedAfterCommit = committed;
				const { session } = await suite.app.validator.validateSessionCookie(theirs);
				if (checkStartedAfterCommit) servedAfterCommit.push(session !== null);
			}
		})();
		await revokeAllSessions(
			{ userId: me.user!.id, sessionId: me.session!.id, ipAddress: null, userAgent: null },
			suite.app.services
		);
		committed = true;
		while (servedAfterCommit.length < 20) await new Promise((resolve) => setTimeout(resolve, 5));
		stop = true;
		await otherDevice;
		console.log(
			`sign out everywhere race on ${dialect}: ${servedAfterCommit.length} requests after commit, ${servedAfterCommit.filter(Boolean).length} signed in`
		);
		expect(servedAfterCommit.filter(Boolean)).toEqual([]);
		expect((await suite.app.validator.validateSessionCookie(mine)).session).toBeNull();
	});
});

describe.each(DIALECTS)('session fixation on %s', (dialect) => {
	const suite = useScratchApp(dialect);

	it('a new sign-in ends the session the browser came with, its own or a planted one', async () => {
		const signedIn = async (cookie: string) =>
			(await suite.app.validator.validateSessionCookie(cookie)).session !== null;
		const planted = sessionCookieFrom(await signIn(suite.app, `attacker-${dialect}@example.com`));
		const first = sessionCookieFrom(await signIn(suite.app, `victim-${dialect}@example.com`, { cookie: planted }));
		const plantedAdopted = first === planted;
		const plantedWorks = await signedIn(planted);

		const second = sessionCookieFrom(await signIn(suite.app, `victim-${dialect}@example.com`, { cookie: first }));
		const oldReissued = second === first;
		const oldWorks = await signedIn(first);
		const current = await suite.app.validator.validateSessionCookie(second);

		const yesNo = (value: boolean) => (value ? 'yes' : 'no');
		console.log(
			`session fixation on ${dialect}: planted cookie adopted: ${yesNo(plantedAdopted)}, works after sign-in: ${yesNo(plantedWorks)}; old token re-issued: ${yesNo(oldReissued)}, works after sign-in: ${yesNo(oldWorks)}; new token signed in: ${yesNo(current.session !== null)} (2 sign-ins)`
		);
		expect(plantedAdopted).toBe(false);
		expect(plantedWorks).toBe(false);
		expect(oldReissued).toBe(false);
		expect(oldWorks).toBe(false);
		expect(current.user?.email).toBe(`victim-${dialect}@example.com`);
	});
});
