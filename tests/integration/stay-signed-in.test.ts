import { describe, expect, it, vi } from 'vitest';
import { createSessionValidator } from '../../src/lib/server/auth/validator';
import { sessionRevoker } from '../../src/lib/server/auth/sessions';
import { sessionCookieFrom, signIn, TestClock } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';
import { sessionRows } from './support/rows';

const MINUTE = 60;
const HOUR = 60 * MINUTE;

// "Stay signed in" on the idle warning (src/routes/(app)/session): the validator's
// extendSessionCookie slides the session now, whatever SESSION_UPDATE_AGE says.
describe.each(DIALECTS)('stay signed in on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, {
		clock,
		env: { SESSION_EXPIRES_IN: '2h', SESSION_UPDATE_AGE: '30m', SESSION_ABSOLUTE_LIFETIME: '3h', REMEMBER_ME: 'off' }
	});
	let people = 0;

	async function signedIn() {
		const response = await signIn(suite.app, `stay-${dialect}-${++people}@example.com`);
		const cookie = sessionCookieFrom(response);
		const { session } = await suite.app.validator.validateSessionCookie(cookie);
		return { cookie, id: session!.id, absoluteExpiresAt: session!.absoluteExpiresAt! };
	}

	async function rowOf(id: string) {
		return (await sessionRows(suite.app.database)).find((row) => row.id === id);
	}

	it('moves the stored expiry to now + the idle time before a refresh is due, and reissues the cookie', async () => {
		const { cookie, id } = await signedIn();
		clock.advance(10 * MINUTE);
		const before = await rowOf(id);

		// A request alone writes nothing: the refresh is not due for another 20 minutes.
		expect((await suite.app.validator.validateSessionCookie(cookie)).cookie).toBeNull();
		expect((await rowOf(id))!.expiresAt).toEqual(before!.expiresAt);

		const extended = await suite.app.validator.extendSessionCookie(cookie);
		expect(extended.session?.id).toBe(id);
		expect(extended.cookie).toEqual({
			kind: 'reissue',
			value: decodeURIComponent(cookie.split('=')[1]!),
			maxAge: 2 * HOUR
		});
		const after = await rowOf(id);
		expect(after!.expiresAt.getTime()).toBe(clock.ms + 2 * HOUR * 1000);
		expect(after!.expiresAt.getTime() - before!.expiresAt.getTime()).toBe(10 * MINUTE * 1000);
		expect(after!.updatedAt.getTime()).toBe(clock.ms);
		expect(suite.app.logLines.filter((line) => line.includes('"reason":"stay-signed-in"')).length).toBeGreaterThan(0);
	});

	it('never moves the expiry past the absolute lifetime', async () => {
		const { cookie, id, absoluteExpiresAt } = await signedIn();
		clock.advance(90 * MINUTE);
		const extended = await suite.app.validator.extendSessionCookie(cookie);
		expect(extended.session!.expiresAt).toEqual(absoluteExpiresAt);
		expect((await rowOf(id))!.expiresAt).toEqual(absoluteExpiresAt);

		// At the cap there is nothing left to extend: no write, no new cookie.
		clock.advance(10 * MINUTE);
		const again = await suite.app.validator.extendSessionCookie(cookie);
		expect(again.session?.id).toBe(id);
		expect(again.cookie).toBeNull();
		expect((await rowOf(id))!.expiresAt).toEqual(absoluteExpiresAt);
	});

	it('refuses without a session: no cookie, an unsigned or forged one, another cookie’s, an ended session', async () => {
		const { cookie, id } = await signedIn();
		const value = decodeURIComponent(cookie.split('=')[1]!);
		const [token] = value.split('.');
		const name = cookie.split('=')[0]!;
		const before = await rowOf(id);
		clock.advance(MINUTE);

		for (const header of [null, '', `${name}=${token}`, `${name}=${token}.${'A'.repeat(43)}=`, `other=${value}`]) {
			const refused = await suite.app.validator.extendSessionCookie(header);
			expect(refused.session, String(header)).toBeNull();
			expect(refused.cookie?.kind ?? null, String(header)).not.toBe('reissue');
		}
		expect((await rowOf(id))!.expiresAt).toEqual(before!.expiresAt);

		await sessionRevoker(suite.app.services)(token!, { log: null });
		expect((await suite.app.validator.extendSessionCookie(cookie)).session).toBeNull();
		expect(await rowOf(id)).toBeUndefined();
	});

	it('checks the session itself: an idle-expired one is not brought back', async () => {
		const { cookie, id } = await signedIn();
		const before = await rowOf(id);
		clock.advance(2 * HOUR + 1);
		const refused = await suite.app.validator.extendSessionCookie(cookie);
		expect(refused.session).toBeNull();
		// Not reissued: kept, as every ended session's cookie is, for the sign-in page to say why.
		expect(refused.cookie).toBeNull();
		expect(refused.endedReason).toBe('idle');
		expect((await rowOf(id))!.expiresAt).toEqual(before!.expiresAt);
	});

	it('slides through the compare-and-set: two at once write once, and both reissue the cookie', async () => {
		const { cookie, id } = await signedIn();
		clock.advance(5 * MINUTE);
		const store = suite.app.database.sessions;
		const extend = vi.fn(store.extend);
		const validator = createSessionValidator({
			store: { ...store, extend },
			revokeSession: sessionRevoker(suite.app.services),
			endings: suite.app.services.endings,
			log: suite.app.log,
			secret: suite.app.config.secret,
			cookies: suite.app.config.cookies,
			clock: clock.now
		});
		const results = await Promise.all([validator.extendSessionCookie(cookie), validator.extendSessionCookie(cookie)]);
		expect(results.map((result) => result.cookie?.kind)).toEqual(['reissue', 'reissue']);
		expect(extend).toHaveBeenCalledTimes(2);
		const wrote = await Promise.all(extend.mock.results.map((result) => result.value as Promise<boolean>));
		expect(wrote.sort()).toEqual([false, true]);
		expect((await rowOf(id))!.expiresAt.getTime()).toBe(clock.ms + 2 * HOUR * 1000);
	});
});
