import { describe, expect, it } from 'vitest';
import { signSessionToken } from '../../src/lib/server/auth/cookies';
import { createNetworkWatch } from '../../src/lib/server/auth/network-watch';
import { ENDING_KEPT_MS, endingHash, endingKey } from '../../src/lib/server/auth/session-endings';
import {
	deleteAccount,
	revokeAllSessions,
	revokeCurrentSession,
	revokeOtherSessions,
	revokeOwnSession,
	revokeSession,
	revokeUserSessions,
	sessionRevoker,
	type Actor
} from '../../src/lib/server/auth/sessions';
import { revokeOneSession, revokeSessionsOfUser } from '../../src/lib/server/cli/commands';
import { purgeExpiredSessions } from '../../src/lib/server/purge';
import { newVisitor, sessionCookieFrom, signIn, TEST_SECRET, TestClock } from './support/app';
import { DIALECTS } from './support/databases';
import { selectRows, sessionRows, updateSessionRow, withEndingsRefused } from './support/rows';
import { useScratchApp } from './support/suite';

/**
 * Why a session ended (docs/decisions/0018-why-a-session-ended.md): every cause records its
 * reason under a keyed hash of the ended token, the validator hands it on only for a validly
 * signed cookie of that very token, and the purge removes it once it has expired.
 */
describe.each(DIALECTS)('why a session ended, on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock });
	let people = 0;

	interface Device {
		cookie: string;
		token: string;
		actor: Actor;
		email: string;
	}

	async function signInDevice(email: string): Promise<Device> {
		const visitor = newVisitor();
		const cookie = sessionCookieFrom(await signIn(suite.app, email, { visitor }));
		const { user, session } = await suite.app.validator.validateSessionCookie(cookie);
		const actor = { userId: user!.id, sessionId: session!.id, ipAddress: visitor.address, userAgent: null };
		return { cookie, token: session!.token, actor, email };
	}

	/** Three browsers of one new person and one of somebody else. */
	async function household() {
		people += 1;
		const email = `ending-${dialect}-${people}@example.com`;
		const [laptop, phone, tablet] = [await signInDevice(email), await signInDevice(email), await signInDevice(email)];
		const stranger = await signInDevice(`stranger-${dialect}-${people}@example.com`);
		return { laptop: laptop!, phone: phone!, tablet: tablet!, stranger };
	}

	/** What the validator makes of a cookie: signed in, or the reason its session ended (null: none). */
	async function verdict(cookie: string): Promise<string | null> {
		const result = await suite.app.validator.validateSessionCookie(cookie);
		if (result.session) return 'signed in';
		if (result.endedReason) {
			// The cookie stays for the sign-in page, which clears it once it has shown the reason.
			expect(result.cookie).toBeNull();
			return result.endedReason;
		}
		expect(result.cookie).toEqual({ kind: 'clear' });
		return null;
	}

	const cli = () => ({
		...suite.app.services,
		output: { stdout: () => undefined, stderr: () => undefined },
		purgeBatchSize: 100,
		clock: clock.now
	});

	it('revoking one device from another: "revoked" for it, nothing for the rest', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);
		expect(await verdict(phone.cookie)).toBe('revoked');
		for (const device of [laptop, tablet, stranger]) expect(await verdict(device.cookie)).toBe('signed in');
	});

	it('signing out other devices: "others" for each of them, the acting one signed in', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		expect(await revokeOtherSessions(laptop.actor, suite.app.services)).toBe(2);
		expect(await verdict(phone.cookie)).toBe('others');
		expect(await verdict(tablet.cookie)).toBe('others');
		expect(await verdict(laptop.cookie)).toBe('signed in');
		expect(await verdict(stranger.cookie)).toBe('signed in');
	});

	it('signing out everywhere: "everywhere" for every device, the acting one included', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		await revokeAllSessions(laptop.actor, suite.app.services);
		for (const device of [laptop, phone, tablet]) expect(await verdict(device.cookie)).toBe('everywhere');
		expect(await verdict(stranger.cookie)).toBe('signed in');
	});

	it('deleting the account: "account-deleted" for every device', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		await deleteAccount(laptop.actor, suite.app.services);
		for (const device of [laptop, phone, tablet]) expect(await verdict(device.cookie)).toBe('account-deleted');
		expect(await verdict(stranger.cookie)).toBe('signed in');
	});

	it('signing out: "sign-out" for this device only', async () => {
		const { laptop, phone } = await household();
		await revokeCurrentSession(laptop.actor, suite.app.services);
		expect(await verdict(laptop.cookie)).toBe('sign-out');
		expect(await verdict(phone.cookie)).toBe('signed in');
	});

	it('an operator (the CLI) ending one session, then every session of a user: "cli"', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		expect(await revokeOneSession(cli(), phone.actor.sessionId)).toBe(0);
		expect(await verdict(phone.cookie)).toBe('cli');
		expect(await verdict(laptop.cookie)).toBe('signed in');

		expect(await revokeSessionsOfUser(cli(), laptop.email)).toBe(0);
		for (const device of [laptop, phone, tablet]) expect(await verdict(device.cookie)).toBe('cli');
		expect(await verdict(stranger.cookie)).toBe('signed in');
	});

	it('the network watch ending a session used from a new network: "ip-change"', async () => {
		const { laptop, phone } = await household();
		const { session } = await suite.app.validator.validateSessionCookie(phone.cookie);
		const watch = createNetworkWatch({
			revokeSession: sessionRevoker(suite.app.services),
			database: suite.app.database,
			revokeOnChange: true
		});
		expect(await watch(session!, '198.51.100.77', null)).toBe('revoked');
		expect(await verdict(phone.cookie)).toBe('ip-change');
		expect(await verdict(laptop.cookie)).toBe('signed in');
	});

	it('any reason a caller names (the session limit, the email change) is recorded as given', async () => {
		const { laptop, phone, tablet } = await household();
		await revokeSession(suite.app.services, phone.token, { log: { event: 'revoked', reason: 'session-limit' } });
		await revokeUserSessions(suite.app.services, laptop.actor.userId, {
			reason: 'email-changed',
			securityEvent: (sessions) => ({ ...laptop.actor, type: 'SIGNED_OUT_EVERYWHERE', detail: { sessions } })
		});
		expect(await verdict(phone.cookie)).toBe('session-limit');
		expect(await verdict(laptop.cookie)).toBe('email-changed');
		expect(await verdict(tablet.cookie)).toBe('email-changed');
	});

	it('a replaced session (a new sign-in in the same browser) records no reason', async () => {
		const { phone } = await household();
		const replacing = sessionCookieFrom(await signIn(suite.app, phone.email, { cookie: phone.cookie }));
		expect(await verdict(replacing)).toBe('signed in');
		expect(await verdict(phone.cookie)).toBeNull();
	});

	it('the idle end: "idle", recorded by the validator, the row left to the purge', async () => {
		const { laptop } = await household();
		const { session } = await suite.app.validator.validateSessionCookie(laptop.cookie);
		clock.advance(session!.idleSeconds + 1);

		expect(await verdict(laptop.cookie)).toBe('idle');
		expect((await sessionRows(suite.app.database)).some((row) => row.id === laptop.actor.sessionId)).toBe(true);
		// The next visit finds it again; once the purge has taken the row, the record alone answers.
		expect(await verdict(laptop.cookie)).toBe('idle');
		// Logged once, by the visit that found it idle: the next only read the kept reason.
		const idleLines = suite.app.logLines
			.map((line) => JSON.parse(line) as { event: string; user?: string; reason?: string })
			.filter((line) => line.event === 'session.expired' && line.user === laptop.actor.userId);
		expect(idleLines).toHaveLength(1);
		await purgeExpiredSessions(suite.app.database, { batchSize: 100, pauseMs: 0, now: clock.now });
		expect((await sessionRows(suite.app.database)).some((row) => row.id === laptop.actor.sessionId)).toBe(false);
		expect(await verdict(laptop.cookie)).toBe('idle');
	});

	it('the absolute end: "absolute-lifetime", through revokeSession, found again on the next visit', async () => {
		const { laptop, phone } = await household();
		await updateSessionRow(suite.app.database, laptop.actor.sessionId, { absoluteExpiresAt: new Date(clock.ms) });

		expect(await verdict(laptop.cookie)).toBe('absolute-lifetime');
		expect((await sessionRows(suite.app.database)).some((row) => row.id === laptop.actor.sessionId)).toBe(false);
		expect(await verdict(laptop.cookie)).toBe('absolute-lifetime');
		expect(await verdict(phone.cookie)).toBe('signed in');
	});

	it('the first ending of a session is the one kept: an idle session later swept up everywhere stays idle', async () => {
		const { laptop } = await household();
		const { session } = await suite.app.validator.validateSessionCookie(laptop.cookie);
		clock.advance(session!.idleSeconds + 1);
		expect(await verdict(laptop.cookie)).toBe('idle');
		await revokeAllSessions(laptop.actor, suite.app.services);
		expect(await verdict(laptop.cookie)).toBe('idle');
	});

	it('stores a keyed hash of the token, never the token, and answers only the right token', async () => {
		const { laptop, phone, tablet } = await household();
		await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);

		const rows = await selectRows<{ token_hash: string; reason: string }>(
			suite.app.database,
			'SELECT token_hash, reason FROM session_ending WHERE reason = ?',
			['revoked']
		);
		const key = endingKey(TEST_SECRET);
		expect(rows.map((row) => row.token_hash)).toContain(endingHash(key, phone.token));
		const everything = JSON.stringify(await selectRows(suite.app.database, 'SELECT * FROM session_ending', []));
		for (const device of [laptop, phone, tablet]) expect(everything).not.toContain(device.token);

		// The revoked browser's neighbours, signed in or not, learn nothing of its ending.
		expect(await verdict(tablet.cookie)).toBe('signed in');
		expect(await suite.app.services.endings.find(tablet.token, clock.ms)).toBeNull();
		expect(await suite.app.services.endings.find(`${phone.token}x`, clock.ms)).toBeNull();
		expect(await verdict(phone.cookie)).toBe('revoked');
	});

	it('a tampered or forged cookie for an ended session gets no reason, and is cleared', async () => {
		const { laptop, phone } = await household();
		await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);
		const [name, value] = phone.cookie.split('=') as [string, string];
		const signature = decodeURIComponent(value).split('.').pop()!;
		const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;

		const forged = [
			// The right token, its signature altered.
			`${name}=${encodeURIComponent(`${phone.token}.${flipped}`)}`,
			// The right token, signed with another secret.
			`${name}=${encodeURIComponent(signSessionToken(phone.token, 'another-secret-0123456789abcdefghijklmn'))}`,
			// The token alone, unsigned.
			`${name}=${encodeURIComponent(phone.token)}`
		];
		for (const cookie of forged) expect(await verdict(cookie), cookie).toBeNull();
		expect(await verdict(phone.cookie)).toBe('revoked');
	});

	it('keeps a reason for its time, then forgets it; the purge deletes it with the rest', async () => {
		const { laptop, phone } = await household();
		await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);
		const hash = endingHash(endingKey(TEST_SECRET), phone.token);
		const stored = () =>
			selectRows(suite.app.database, 'SELECT token_hash FROM session_ending WHERE token_hash = ?', [hash]);

		clock.advance(ENDING_KEPT_MS / 1000 - 1);
		expect(await verdict(phone.cookie)).toBe('revoked');
		await purgeExpiredSessions(suite.app.database, { batchSize: 100, pauseMs: 0, now: clock.now });
		expect(await stored()).toHaveLength(1);

		// At its expiry it is no longer found; the purge takes what expired before now, as it does sessions.
		clock.advance(1);
		expect(await verdict(phone.cookie)).toBeNull();
		clock.advance(0.001);
		const purged = await purgeExpiredSessions(suite.app.database, { batchSize: 100, pauseMs: 0, now: clock.now });
		expect(purged.other).toBeGreaterThanOrEqual(1);
		expect(await stored()).toHaveLength(0);
	});

	it('a reason that cannot be stored leaves the revocation standing, logged without the token', async () => {
		const { laptop, phone, tablet } = await household();
		const before = suite.app.logLines.length;

		await withEndingsRefused(suite.app.database, async () => {
			await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);
			await revokeOtherSessions(laptop.actor, suite.app.services);
		});

		// Refused, without a reason: the browser just sees the plain sign-in page.
		expect(await verdict(phone.cookie)).toBeNull();
		expect(await verdict(tablet.cookie)).toBeNull();
		expect(await verdict(laptop.cookie)).toBe('signed in');
		const logged = suite.app.logLines.slice(before);
		expect(logged.filter((line) => line.includes('could not record why'))).toHaveLength(2);
		for (const device of [laptop, phone, tablet]) expect(logged.join('\n')).not.toContain(device.token);
		expect(logged.some((line) => line.includes('"event":"session.revoked"'))).toBe(true);
	});
});
