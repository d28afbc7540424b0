import type { Cookies } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { maskEmail } from '../../src/lib/server/auth/email-change';
import { LIMIT_REFUSED } from '../../src/lib/server/auth/otp-sign-in';
import {
	checkSignOutLink,
	LINK_LIFETIME_SECONDS,
	sendSignOutLink,
	signOutLinkFrom,
	useSignOutLink,
	type SignOutLink,
	type SignOutLinkService
} from '../../src/lib/server/auth/sign-out-link';
import { REFUSED_SIGN_IN_SECONDS, refusedSignInCookie, refusedUser } from '../../src/lib/server/auth/refused-sign-in';
import { databaseRateLimiter } from '../../src/lib/server/rate-limit';
import { sessionCookieFrom, signIn, TestClock, verifyAtOnce, type TestApp } from './support/app';
import { selectRows, withSessionDeletesRefused } from './support/rows';
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

/** The refused sign-in's cookie as the browser sends it back, from a sign-in's Set-Cookie lines. */
function refusedCookieFrom(response: Response): Pick<Cookies, 'get'> {
	const line = response.headers.getSetCookie().find((candidate) => /\.sign_in_refused=/.test(candidate));
	const [name, value] = line ? line.split(';')[0]!.split('=') : [];
	return { get: (asked: string) => (asked === name ? decodeURIComponent(value!) : undefined) };
}

function signOutLinkService(app: TestApp, clock: TestClock): SignOutLinkService {
	return {
		codes: { rows: app.database.codes, secret: app.config.secret, now: clock.now },
		mailer: app.outbox,
		limiter: databaseRateLimiter(app.database, clock.now),
		limits: app.config.signInLimits.signOutLink,
		sessions: app.services,
		origin: app.origin,
		refusedCookie: refusedSignInCookie(app.config.cookies)
	};
}

/** The link in the newest message to `email`, as its query string carries it. */
function linkMailedTo(app: TestApp, email: string): SignOutLink {
	const message = app.outbox.list().find((candidate) => candidate.to === email && /sign out/i.test(candidate.subject));
	const url = new URL(/https?:\/\/\S+/.exec(message?.text ?? '')![0]);
	expect(url.origin + url.pathname).toBe(`${app.origin}/sign-out-everywhere`);
	return signOutLinkFrom((name) => url.searchParams.get(name))!;
}

const requester = { ipAddress: '198.51.100.7', userAgent: 'Mozilla/5.0 IntegrationTest/link' };

/** MAX_SESSIONS_PER_USER=2 with SESSION_LIMIT_ACTION=refuse, per engine: the refusal and the emailed way out. */
describe.each(DIALECTS)('the concurrent-session limit, refusing, on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, {
		clock,
		env: { MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_ACTION: 'refuse' }
	});
	const signedIn = async (cookie: string) => (await suite.app.validator.validateSessionCookie(cookie)).session;
	const eventsOf = async (userId: string, type: string) =>
		(await suite.app.database.securityEvents.page(userId, 50, 0)).rows.filter((row) => row.type === type);

	/** Two browsers signed in, a third refused: their cookies and the user. */
	async function atTheLimit(email: string) {
		const first = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);
		const second = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);
		const refused = await signIn(suite.app, email);
		const userId = (await suite.app.database.users.findByEmail(email))!.id;
		return { first, second, refused, userId };
	}

	it('a sign-in over the limit gets no session and a signed cookie to ask for the link; the others go on', async () => {
		const email = `refuse-basic-${dialect}@example.com`;
		const { first, second, refused, userId } = await atTheLimit(email);

		expect(refused.status).toBe(403);
		expect(await refused.text()).toBe(LIMIT_REFUSED.message);
		expect(refused.headers.getSetCookie().some((line) => /\.session_token=[^;]/.test(line))).toBe(false);
		const service = signOutLinkService(suite.app, clock);
		expect(refusedUser(refusedCookieFrom(refused), service.refusedCookie, service.codes.secret, clock.ms)).toBe(userId);
		expect(await signedIn(first)).not.toBeNull();
		expect(await signedIn(second)).not.toBeNull();
		expect(await suite.app.database.sessions.listActiveByUser(userId, new Date(clock.ms))).toHaveLength(2);
		const [event] = await eventsOf(userId, 'SIGN_IN_REFUSED');
		expect(JSON.parse(event!.detail)).toEqual({ method: 'email-otp', limit: 2 });
		expect(await eventsOf(userId, 'SIGN_IN')).toHaveLength(2);
		expect(suite.app.logLines.filter((line) => line.includes('"session.created"'))).not.toContainEqual(
			expect.stringContaining(event!.id)
		);
	});

	it('a re-authentication at the limit is not refused: it replaces its own session', async () => {
		const email = `refuse-reauth-${dialect}@example.com`;
		const mine = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);
		const theirs = sessionCookieFrom(await signIn(suite.app, email));
		clock.advance(60);

		const replacement = await signIn(suite.app, email, { cookie: mine });

		expect(replacement.status).toBe(200);
		expect(await signedIn(sessionCookieFrom(replacement))).not.toBeNull();
		expect(await signedIn(mine)).toBeNull();
		expect(await signedIn(theirs)).not.toBeNull();
	});

	it('10 sign-ins of one user at once, with room for one more, leave exactly the limit; the rest are refused', async () => {
		const email = `refuse-race-${dialect}@example.com`;
		await signIn(suite.app, email);
		const outcomes = await verifyAtOnce(suite.app, email, 10);

		const userId = (await suite.app.database.users.findByEmail(email))!.id;
		const left = await suite.app.database.sessions.listActiveByUser(userId, new Date(clock.ms));
		const refused = outcomes.filter((outcome) => outcome !== null);
		console.log(
			`session limit (refuse) on ${dialect}: 10 sign-ins at once with room for 1 leave ${left.length} signed in; ${refused.length} refused`
		);
		expect(left).toHaveLength(2);
		expect(refused).toHaveLength(9);
		for (const outcome of refused) expect(outcome).toBe(LIMIT_REFUSED);
		expect(await eventsOf(userId, 'SIGN_IN_REFUSED')).toHaveLength(9);
	});

	it('the emailed link, confirmed, signs out every device once, is logged, and lets the user sign in', async () => {
		const email = `refuse-link-${dialect}@example.com`;
		const { first, second, refused, userId } = await atTheLimit(email);
		const service = signOutLinkService(suite.app, clock);

		const sent = await sendSignOutLink(service, refusedCookieFrom(refused), requester);
		expect(sent).toEqual({ refusal: null, sentTo: maskEmail(email) });
		const link = linkMailedTo(suite.app, email);
		expect(link.user).toBe(userId);
		expect(JSON.stringify(await selectRows(suite.app.database, 'SELECT * FROM verification', []))).not.toContain(
			link.token
		);
		expect(await eventsOf(userId, 'SIGN_OUT_LINK_SENT')).toHaveLength(1);
		// Opening the link (a mail scanner does) spends nothing.
		expect(await checkSignOutLink(service, link)).toBeNull();
		expect(await checkSignOutLink(service, link)).toBeNull();

		expect(await useSignOutLink(service, link, requester)).toEqual({ refusal: null, sessions: 2 });

		for (const cookie of [first, second]) {
			const validated = await suite.app.validator.validateSessionCookie(cookie);
			expect(validated.session).toBeNull();
			expect(validated.endedReason).toBe('everywhere');
		}
		const [event] = await eventsOf(userId, 'SIGNED_OUT_EVERYWHERE');
		expect(JSON.parse(event!.detail)).toEqual({ sessions: 2, via: 'emailed-link' });
		expect(event!.ipAddress).toBe(requester.ipAddress);
		// Single use: the same link again changes nothing and says so.
		expect((await useSignOutLink(service, link, requester)).refusal?.message).toMatch(/has been used/);
		expect((await checkSignOutLink(service, link))?.message).toMatch(/has been used/);
		expect(await signedIn(sessionCookieFrom(await signIn(suite.app, email)))).not.toBeNull();
	});

	it('an expired link, a replaced one and one for another user sign out nobody', async () => {
		const email = `refuse-stale-${dialect}@example.com`;
		const { first, refused, userId } = await atTheLimit(email);
		const bystanderEmail = `refuse-bystander-${dialect}@example.com`;
		const bystander = sessionCookieFrom(await signIn(suite.app, bystanderEmail));
		const bystanderId = (await suite.app.database.users.findByEmail(bystanderEmail))!.id;
		const service = signOutLinkService(suite.app, clock);
		const cookie = refusedCookieFrom(refused);

		await sendSignOutLink(service, cookie, requester);
		const replaced = linkMailedTo(suite.app, email);
		clock.advance(1);
		await sendSignOutLink(service, cookie, requester);
		const link = linkMailedTo(suite.app, email);
		expect(link.token).not.toBe(replaced.token);

		expect((await useSignOutLink(service, replaced, requester)).refusal?.message).toMatch(/replaced by a newer one/);
		// The link's token under another user's id: the user is part of the digest.
		const otherUser = { user: bystanderId, token: link.token };
		expect((await checkSignOutLink(service, otherUser))?.message).toMatch(/not valid/);
		expect((await useSignOutLink(service, otherUser, requester)).refusal?.message).toMatch(/not valid/);
		expect(await signedIn(bystander)).not.toBeNull();
		expect(await signedIn(first)).not.toBeNull();

		clock.advance(LINK_LIFETIME_SECONDS);
		expect((await checkSignOutLink(service, link))?.message).toMatch(/expired/);
		expect((await useSignOutLink(service, link, requester)).refusal?.message).toMatch(/expired/);
		expect(await signedIn(first)).not.toBeNull();
		expect(await eventsOf(userId, 'SIGNED_OUT_EVERYWHERE')).toEqual([]);
		expect(await eventsOf(bystanderId, 'SIGNED_OUT_EVERYWHERE')).toEqual([]);
	});

	it('a link whose devices cannot be signed out (a database fault) is a 503 and still works afterwards', async () => {
		const email = `refuse-fault-${dialect}@example.com`;
		const { first, refused } = await atTheLimit(email);
		const service = signOutLinkService(suite.app, clock);
		await sendSignOutLink(service, refusedCookieFrom(refused), requester);
		const link = linkMailedTo(suite.app, email);

		const failed = await withSessionDeletesRefused(suite.app.database, () => useSignOutLink(service, link, requester));

		expect(failed.refusal?.status).toBe(503);
		expect(await signedIn(first)).not.toBeNull();
		expect(await useSignOutLink(service, link, requester)).toEqual({ refusal: null, sessions: 2 });
		expect(await signedIn(first)).toBeNull();
	});

	it('a link the mail server refuses is a 503 and is not logged as sent', async () => {
		const { refused, userId } = await atTheLimit(`refuse-smtp-${dialect}@example.com`);
		const service = {
			...signOutLinkService(suite.app, clock),
			mailer: { send: () => Promise.reject(new Error('the mail server is away')) }
		};

		const sent = await sendSignOutLink(service, refusedCookieFrom(refused), requester);

		expect(sent.refusal).toEqual({ status: 503, message: expect.stringMatching(/could not send the email/) });
		expect(await eventsOf(userId, 'SIGN_OUT_LINK_SENT')).toEqual([]);
	});

	it('a link is sent only to a browser with a valid, unexpired refused-sign-in cookie, within its limits', async () => {
		const email = `refuse-ask-${dialect}@example.com`;
		const { refused, userId } = await atTheLimit(email);
		const service = signOutLinkService(suite.app, clock);
		const cookie = refusedCookieFrom(refused);
		const [name] = refused.headers
			.getSetCookie()
			.find((line) => /\.sign_in_refused=/.test(line))!
			.split('=');
		const forged = (value: string) => ({ get: (asked: string) => (asked === name ? value : undefined) });
		const genuine = cookie.get(name!)!;
		const sentBefore = suite.app.outbox.list().length;

		for (const jar of [
			{ get: () => undefined },
			forged(genuine.replace(/\.[^.]+$/, '.someone-else')),
			forged(genuine.replace(/^\d+/, String(clock.ms + 3_600_000))),
			forged('garbage')
		])
			expect((await sendSignOutLink(service, jar, requester)).refusal?.status).toBe(403);
		expect(suite.app.outbox.list().length).toBe(sentBefore);

		for (let i = 0; i < 3; i++) expect((await sendSignOutLink(service, cookie, requester)).refusal).toBeNull();
		expect((await sendSignOutLink(service, cookie, requester)).refusal).toEqual({
			status: 429,
			message: expect.stringMatching(/^Too many links sent/)
		});
		expect(await eventsOf(userId, 'SIGN_OUT_LINK_SENT')).toHaveLength(3);

		clock.advance(REFUSED_SIGN_IN_SECONDS);
		expect((await sendSignOutLink(service, cookie, requester)).refusal?.status).toBe(403);
	});
});
