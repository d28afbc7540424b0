import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, type PresetName } from '../../src/lib/server/auth/policy';
import {
	countingValidator,
	sessionCookieFrom,
	sessionSetCookie,
	signIn,
	startTestApp,
	TestClock,
	type TestApp
} from './support/app';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';
import { sessionRows } from './support/rows';

interface Case {
	preset: PresetName;
	rememberMe: boolean | undefined;
	/** What the row must record. */
	policy: PresetName;
	/** Max-Age of the sign-in cookie in seconds, or null for a browser-session cookie. */
	maxAge: number | null;
}

const H = 3600;
const D = 24 * H;

// REMEMBER_ME is offered by default except under high-security, where the checkbox is absent.
const CASES: Case[] = [
	{ preset: 'standard', rememberMe: false, policy: 'standard', maxAge: null },
	{ preset: 'standard', rememberMe: true, policy: 'remember-me', maxAge: 30 * D },
	{ preset: 'mobile', rememberMe: false, policy: 'mobile', maxAge: null },
	{ preset: 'mobile', rememberMe: true, policy: 'remember-me', maxAge: 30 * D },
	{ preset: 'remember-me', rememberMe: false, policy: 'remember-me', maxAge: null },
	{ preset: 'high-security', rememberMe: undefined, policy: 'high-security', maxAge: H },
	{ preset: 'high-security', rememberMe: true, policy: 'high-security', maxAge: H }
];

function maxAgeOf(setCookie: string): number | null {
	const match = /;\s*Max-Age=(\d+)/i.exec(setCookie);
	return match ? Number(match[1]) : null;
}

describe.each(DIALECTS)('session policy on %s', (dialect) => {
	let scratch: ScratchDatabase;
	const apps: TestApp[] = [];
	let emails = 0;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
	});

	afterAll(async () => {
		await apps[0]?.database.close();
		await scratch?.drop();
	});

	/** An app on the shared scratch database, with its own clock and environment. */
	async function appWith(env: Record<string, string>, clock: TestClock): Promise<TestApp> {
		const app = await startTestApp(scratch.target, { env, clock, database: apps[0]?.database });
		apps.push(app);
		return app;
	}

	async function rowOf(sessionId: string) {
		return (await sessionRows(apps[0]!.database)).find((row) => row.id === sessionId);
	}

	it.each(CASES)(
		'$preset with remember-me $rememberMe: cookie, expiry, refresh once per updateAge, idle expiry',
		async ({ preset, rememberMe, policy, maxAge }) => {
			const clock = new TestClock();
			const app = await appWith({ SESSION_PRESET: preset }, clock);
			const { idleSeconds, refreshSeconds } = PRESETS[policy];
			const response = await signIn(app, `policy-${dialect}-${++emails}@example.com`, { rememberMe });
			expect(response.status).toBe(200);
			expect(maxAgeOf(sessionSetCookie(response))).toBe(maxAge);
			expect(sessionSetCookie(response)).not.toMatch(/Expires=/i);
			const cookie = sessionCookieFrom(response);
			const { validator, extend } = countingValidator(app, clock);

			const first = await validator.validateSessionCookie(cookie);
			const sessionId = first.session!.id;
			const created = await rowOf(sessionId);
			expect(created).toMatchObject({ policy, idleSeconds, refreshSeconds, persistent: maxAge !== null });
			expect(created!.expiresAt.getTime()).toBe(clock.ms + idleSeconds * 1000);
			expect(first.cookie).toBeNull();

			clock.advance(refreshSeconds - 1);
			expect((await validator.validateSessionCookie(cookie)).cookie).toBeNull();
			expect(extend).not.toHaveBeenCalled();
			expect((await rowOf(sessionId))!.expiresAt).toEqual(created!.expiresAt);

			clock.advance(1);
			const refreshed = await validator.validateSessionCookie(cookie);
			expect(refreshed.cookie).toEqual({
				kind: 'reissue',
				value: decodeURIComponent(cookie.split('=')[1]!),
				maxAge: maxAge === null ? undefined : idleSeconds
			});
			expect(extend).toHaveBeenCalledTimes(1);
			expect((await rowOf(sessionId))!.expiresAt.getTime()).toBe(clock.ms + idleSeconds * 1000);

			expect((await validator.validateSessionCookie(cookie)).cookie).toBeNull();
			expect(extend).toHaveBeenCalledTimes(1);

			// Idle for the whole idle time since that refresh: gone, with its reason; the cookie stays
			// until the sign-in page has shown it, which then clears it.
			clock.advance(idleSeconds + 1);
			const expired = await validator.validateSessionCookie(cookie);
			expect(expired.session).toBeNull();
			expect(expired.endedReason).toBe('idle');
			expect(expired.cookie).toBeNull();
		}
	);

	interface SteadyUse {
		preset: PresetName;
		rememberMe: boolean | undefined;
		/** The policy the session gets, and so its absolute lifetime. */
		policy: PresetName;
		/** Seconds between two requests of the steady user. */
		every: number;
	}

	// Every preset, each used steadily: once per refresh interval or more often.
	const STEADY_USE: SteadyUse[] = [
		{ preset: 'high-security', rememberMe: undefined, policy: 'high-security', every: 10 * 60 },
		{ preset: 'standard', rememberMe: false, policy: 'standard', every: 12 * H },
		{ preset: 'standard', rememberMe: true, policy: 'remember-me', every: D },
		{ preset: 'mobile', rememberMe: false, policy: 'mobile', every: 7 * D }
	];

	it.each(STEADY_USE)(
		'ends a $policy session at its absolute lifetime however active it is',
		async ({ preset, rememberMe, policy, every }) => {
			const clock = new TestClock();
			const app = await appWith({ SESSION_PRESET: preset }, clock);
			const email = `absolute-${policy}-${dialect}@example.com`;
			const cookie = sessionCookieFrom(await signIn(app, email, { rememberMe }));
			const { validator } = countingValidator(app, clock);
			const first = await validator.validateSessionCookie(cookie);
			const sessionId = first.session!.id;
			const userId = first.user!.id;
			const absoluteEnd = clock.ms + PRESETS[policy].absoluteSeconds! * 1000;
			expect(first.session!.absoluteExpiresAt!.getTime()).toBe(absoluteEnd);

			// A request every `every` seconds: the session slides, but never past its absolute end,
			// and no re-issued cookie outlives it.
			while (clock.ms + every * 1000 < absoluteEnd) {
				clock.advance(every);
				const checked = await validator.validateSessionCookie(cookie);
				const minutesLeft = (absoluteEnd - clock.ms) / 60_000;
				expect(checked.session, `at ${minutesLeft} min before the end`).not.toBeNull();
				expect(checked.session!.expiresAt.getTime()).toBeLessThanOrEqual(absoluteEnd);
				if (checked.cookie?.kind === 'reissue' && checked.cookie.maxAge !== undefined) {
					expect(checked.cookie.maxAge).toBe(Math.round((checked.session!.expiresAt.getTime() - clock.ms) / 1000));
					expect(clock.ms + checked.cookie.maxAge * 1000).toBeLessThanOrEqual(absoluteEnd);
				}
			}
			expect((await rowOf(sessionId))!.expiresAt.getTime()).toBe(absoluteEnd);

			// The device list drops it at its end, before any request has ended it.
			clock.ms = absoluteEnd - 1000;
			expect(
				(await app.database.sessions.listActiveByUser(userId, new Date(clock.ms))).map((session) => session.id)
			).toEqual([sessionId]);
			clock.ms = absoluteEnd;
			expect(await app.database.sessions.listActiveByUser(userId, new Date(clock.ms))).toEqual([]);

			const logged = app.logLines.length;
			const ended = await validator.validateSessionCookie(cookie);
			expect(ended.session).toBeNull();
			expect(ended.endedReason).toBe('absolute-lifetime');
			expect(ended.cookie).toBeNull();
			expect(await rowOf(sessionId)).toBeUndefined();
			expect(app.logLines.slice(logged).map((line) => JSON.parse(line))).toEqual([
				expect.objectContaining({ event: 'session.expired', user: userId, reason: 'absolute-lifetime' })
			]);
		}
	);

	it('keeps refreshing a session by the policy it was created with after the app preset changes', async () => {
		const clock = new TestClock();
		const standardApp = await appWith({ SESSION_PRESET: 'standard' }, clock);
		const cookie = sessionCookieFrom(await signIn(standardApp, `preset-change-${dialect}@example.com`));

		const mobileApp = await appWith({ SESSION_PRESET: 'mobile' }, clock);
		clock.advance(D);
		const refreshed = await mobileApp.validator.validateSessionCookie(cookie);
		expect(refreshed.session?.policy).toBe('standard');
		expect(refreshed.session!.expiresAt.getTime()).toBe(clock.ms + 7 * D * 1000);

		const newSession = await mobileApp.validator.validateSessionCookie(
			sessionCookieFrom(await signIn(mobileApp, `new-${dialect}@example.com`))
		);
		expect(newSession.session?.policy).toBe('mobile');
	});

	it('applies custom durations from the environment', async () => {
		const clock = new TestClock();
		const app = await appWith(
			{ SESSION_EXPIRES_IN: '2h', SESSION_UPDATE_AGE: '10m', SESSION_ABSOLUTE_LIFETIME: '1d' },
			clock
		);
		const { session } = await app.validator.validateSessionCookie(
			sessionCookieFrom(await signIn(app, `custom-${dialect}@example.com`))
		);
		expect(session).toMatchObject({ policy: 'custom', idleSeconds: 2 * H, refreshSeconds: 600 });
		expect(session!.absoluteExpiresAt!.getTime()).toBe(clock.ms + D * 1000);
	});
});
