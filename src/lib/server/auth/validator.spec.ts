import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SessionLogEvent } from '../session-log';
import { PRESETS } from './policy';
import { createSessionValidator, type CookieAction } from './validator';
import { credentialCookieName, credentialValue, deviceCredentialCheck } from './device-binding';
import { sessionCookieName, signSessionToken } from './cookies';
import type { StoredSession } from '../db/port';
import { MemorySessions } from '../../../../tests/support/memory-sessions';

const SECRET = 'unit-test-secret-0123456789abcdefghijkl';
const COOKIES = { prefix: 'latchkey', domain: null, secure: false };
const COOKIE_NAME = sessionCookieName(COOKIES);
const TOKEN = 'token-of-session-1';

/** Every time in the table is milliseconds after this sign-in. */
const SIGNED_IN_AT = Date.UTC(2026, 0, 1);
const POLICY = PRESETS['high-security'];
const IDLE = POLICY.idleSeconds * 1000;
const REFRESH = POLICY.refreshSeconds * 1000;
const ABSOLUTE = POLICY.absoluteSeconds! * 1000;
/** Less than an idle time before the absolute lifetime, with the last refresh before that. */
const NEAR_THE_END = ABSOLUTE - IDLE + REFRESH / 2;

type Session = StoredSession['session'];
type LogLine = [SessionLogEvent, string, Record<string, unknown>];

const at = (offset: number) => new Date(SIGNED_IN_AT + offset);
const cookieFor = (token: string, secret = SECRET) =>
	`theme=dark; ${COOKIE_NAME}=${encodeURIComponent(signSessionToken(token, secret))}`;
const reissued = (maxAgeSeconds: number | undefined): CookieAction => ({
	kind: 'reissue',
	value: signSessionToken(TOKEN, SECRET),
	maxAge: maxAgeSeconds
});

/** A high-security session as a sign-in at SIGNED_IN_AT creates it. */
function storedSession(changes: Partial<Session> = {}): StoredSession {
	const session: Session = {
		id: 'session-1',
		token: TOKEN,
		userId: 'user-1',
		expiresAt: at(IDLE),
		createdAt: at(0),
		updatedAt: at(0),
		ipAddress: '203.0.113.7',
		userAgent: 'Mozilla/5.0 (unit test)',
		policy: POLICY.name,
		idleSeconds: POLICY.idleSeconds,
		refreshSeconds: POLICY.refreshSeconds,
		absoluteExpiresAt: at(ABSOLUTE),
		persistent: true,
		knownNetworks: '',
		deviceKey: null,
		deviceBoundAt: null,
		...changes
	};
	const user = {
		id: 'user-1',
		name: 'Ada',
		email: 'ada@example.com',
		emailVerified: true,
		image: null,
		createdAt: at(-1000),
		updatedAt: at(-1000)
	};
	return { session, user };
}

/** Last refreshed `sinceRefresh` ms before `now`, expiring an idle time after that refresh. */
const refreshedBefore = (now: number, sinceRefresh: number): Partial<Session> => ({
	updatedAt: at(now - sinceRefresh),
	expiresAt: at(now - sinceRefresh + IDLE)
});

interface Row {
	name: string;
	setup: {
		/** The request's Cookie header; a signed cookie for the stored session unless given. */
		cookie?: string | null;
		/** Changes to the stored session; null for no stored session at all. */
		session?: Partial<Session> | null;
		/** Another request of the same session refreshes it between this one's read and its write. */
		refreshedMeanwhile?: true;
		/** A reason stored for TOKEN's ending (session-endings.ts). */
		endingStored?: string;
	};
	/** When the request arrives, in ms after the sign-in. */
	at: number;
	expect: {
		/** The session's expiry and last refresh in the result, as offsets; null when signed out. */
		signedIn: { expiresAt: number; updatedAt: number } | null;
		cookie: CookieAction;
		/** Every extend the store saw, as offsets. */
		writes: { expiresAt: number; refreshedAt: number; wrote: boolean }[];
		log: LogLine[];
		/** Tokens of the sessions ended through revokeSession. */
		ended?: string[];
		/** The reason the result carries for the sign-in page; null unless given. */
		endedReason?: string;
		/** Tokens whose ending was looked up; none unless given. */
		lookedUp?: string[];
		/** [token, reason] recorded by the validator itself; none unless given. */
		recorded?: Array<[string, string]>;
	};
}

const ROWS: Row[] = [
	{
		name: 'no cookie at all: signed out, nothing to clear',
		setup: { cookie: null },
		at: 0,
		expect: { signedIn: null, cookie: null, writes: [], log: [] }
	},
	{
		name: 'other cookies only: signed out, nothing to clear',
		setup: { cookie: 'theme=dark; other=1' },
		at: 0,
		expect: { signedIn: null, cookie: null, writes: [], log: [] }
	},
	{
		name: 'a signature that is not base64 HMAC: signed out, cookie cleared',
		setup: { cookie: `${COOKIE_NAME}=${TOKEN}.not-a-signature` },
		at: 0,
		expect: { signedIn: null, cookie: { kind: 'clear' }, writes: [], log: [] }
	},
	{
		name: 'signed with another secret: signed out, cookie cleared',
		setup: { cookie: cookieFor(TOKEN, 'another-secret-0123456789abcdefghijklmn') },
		at: 0,
		expect: { signedIn: null, cookie: { kind: 'clear' }, writes: [], log: [] }
	},
	{
		name: "an ended session's token under a forged signature: no lookup, no reason, cookie cleared",
		setup: {
			session: null,
			endingStored: 'revoked',
			cookie: cookieFor(TOKEN, 'another-secret-0123456789abcdefghijklmn')
		},
		at: 0,
		expect: { signedIn: null, cookie: { kind: 'clear' }, writes: [], log: [] }
	},
	{
		name: 'validly signed but unknown token: its ending looked up, none, cookie cleared',
		setup: { session: null },
		at: 0,
		expect: { signedIn: null, cookie: { kind: 'clear' }, writes: [], log: [], lookedUp: [TOKEN] }
	},
	{
		name: 'validly signed, its session ended with a reason: signed out, the reason, cookie kept',
		setup: { session: null, endingStored: 'revoked' },
		at: 0,
		expect: { signedIn: null, cookie: null, writes: [], log: [], lookedUp: [TOKEN], endedReason: 'revoked' }
	},
	{
		name: 'valid, refresh not due: no write, no cookie',
		setup: {},
		at: REFRESH - 1,
		expect: { signedIn: { expiresAt: IDLE, updatedAt: 0 }, cookie: null, writes: [], log: [] }
	},
	{
		name: 'refresh due: one write, cookie reissued for the idle time',
		setup: {},
		at: REFRESH,
		expect: {
			signedIn: { expiresAt: REFRESH + IDLE, updatedAt: REFRESH },
			cookie: reissued(POLICY.idleSeconds),
			writes: [{ expiresAt: REFRESH + IDLE, refreshedAt: REFRESH, wrote: true }],
			log: [['refreshed', 'session-1', { user: 'user-1', policy: POLICY.name }]]
		}
	},
	{
		name: 'refresh due on a browser-session cookie: reissued without maxAge',
		setup: { session: { persistent: false } },
		at: REFRESH,
		expect: {
			signedIn: { expiresAt: REFRESH + IDLE, updatedAt: REFRESH },
			cookie: reissued(undefined),
			writes: [{ expiresAt: REFRESH + IDLE, refreshedAt: REFRESH, wrote: true }],
			log: [['refreshed', 'session-1', { user: 'user-1', policy: POLICY.name }]]
		}
	},
	{
		name: 'refresh race lost: no refreshed line, cookie still reissued',
		setup: { refreshedMeanwhile: true },
		at: REFRESH,
		expect: {
			signedIn: { expiresAt: REFRESH + IDLE, updatedAt: REFRESH },
			cookie: reissued(POLICY.idleSeconds),
			writes: [
				{ expiresAt: REFRESH + IDLE, refreshedAt: REFRESH, wrote: true },
				{ expiresAt: REFRESH + IDLE, refreshedAt: REFRESH, wrote: false }
			],
			log: []
		}
	},
	{
		name: 'exactly at expiresAt: still valid (and refreshed, as due)',
		setup: {},
		at: IDLE,
		expect: {
			signedIn: { expiresAt: IDLE + IDLE, updatedAt: IDLE },
			cookie: reissued(POLICY.idleSeconds),
			writes: [{ expiresAt: IDLE + IDLE, refreshedAt: IDLE, wrote: true }],
			log: [['refreshed', 'session-1', { user: 'user-1', policy: POLICY.name }]]
		}
	},
	{
		name: '1 ms after expiresAt: idle expired, logged, reason recorded, cookie kept, row left to the purge',
		setup: {},
		at: IDLE + 1,
		expect: {
			signedIn: null,
			cookie: null,
			writes: [],
			log: [['expired', 'session-1', { user: 'user-1', reason: 'idle' }]],
			ended: [],
			endedReason: 'idle',
			lookedUp: [TOKEN],
			recorded: [[TOKEN, 'idle']]
		}
	},
	{
		name: 'idle expired, its reason already kept by an earlier request: nothing logged or written again',
		setup: { endingStored: 'idle' },
		at: IDLE + 1,
		expect: {
			signedIn: null,
			cookie: null,
			writes: [],
			log: [],
			ended: [],
			endedReason: 'idle',
			lookedUp: [TOKEN],
			recorded: []
		}
	},
	{
		name: '1 ms before the absolute lifetime: valid, nothing due',
		setup: { session: refreshedBefore(ABSOLUTE - 1, 1000) },
		at: ABSOLUTE - 1,
		expect: {
			signedIn: { expiresAt: ABSOLUTE - 1001 + IDLE, updatedAt: ABSOLUTE - 1001 },
			cookie: null,
			writes: [],
			log: []
		}
	},
	{
		name: 'absolute lifetime reached while active: session ended, logged, its reason, cookie kept',
		setup: { session: refreshedBefore(ABSOLUTE, 1000) },
		at: ABSOLUTE,
		expect: {
			signedIn: null,
			cookie: null,
			writes: [],
			log: [['expired', 'session-1', { user: 'user-1', reason: 'absolute-lifetime' }]],
			ended: [TOKEN],
			endedReason: 'absolute-lifetime'
		}
	},
	{
		name: 'refresh due near the absolute lifetime: expiry capped at it, maxAge what is left',
		setup: { session: refreshedBefore(NEAR_THE_END, REFRESH) },
		at: NEAR_THE_END,
		expect: {
			signedIn: { expiresAt: ABSOLUTE, updatedAt: NEAR_THE_END },
			cookie: reissued((ABSOLUTE - NEAR_THE_END) / 1000),
			writes: [{ expiresAt: ABSOLUTE, refreshedAt: NEAR_THE_END, wrote: true }],
			log: [['refreshed', 'session-1', { user: 'user-1', policy: POLICY.name }]]
		}
	},
	{
		name: 'refresh due but already expiring at the absolute lifetime: nothing to extend',
		setup: { session: { updatedAt: at(ABSOLUTE - IDLE / 2), expiresAt: at(ABSOLUTE) } },
		at: ABSOLUTE - IDLE / 2 + REFRESH,
		expect: {
			signedIn: { expiresAt: ABSOLUTE, updatedAt: ABSOLUTE - IDLE / 2 },
			cookie: null,
			writes: [],
			log: []
		}
	},
	{
		name: 'no absolute lifetime (off): the refresh slides by the full idle time',
		setup: { session: { absoluteExpiresAt: null, ...refreshedBefore(ABSOLUTE, REFRESH) } },
		at: ABSOLUTE,
		expect: {
			signedIn: { expiresAt: ABSOLUTE + IDLE, updatedAt: ABSOLUTE },
			cookie: reissued(POLICY.idleSeconds),
			writes: [{ expiresAt: ABSOLUTE + IDLE, refreshedAt: ABSOLUTE, wrote: true }],
			log: [['refreshed', 'session-1', { user: 'user-1', policy: POLICY.name }]]
		}
	}
];

/** A validator over an in-memory store, a fake clock, a recording log and a recording revokeSession. */
function world(setup: Row['setup'], now: number) {
	const stored = setup.session === null ? [] : [storedSession(setup.session)];
	const store = new MemorySessions(stored);
	const log: LogLine[] = [];
	const ended: string[] = [];
	const storedEndings = new Map<string, string>(setup.endingStored ? [[TOKEN, setup.endingStored]] : []);
	const lookedUp: string[] = [];
	const recorded: Array<[string, string]> = [];
	const validator = createSessionValidator({
		store,
		revokeSession: async (token, ending) => {
			ended.push(token);
			const row = stored.find(({ session }) => session.token === token)?.session;
			const revoked = await store.end(token);
			// As sessions.ts does: the ending's log line, for a session this call ended.
			if (revoked && row && ending.log) {
				log.push([ending.log.event, row.id, { user: row.userId, reason: ending.log.reason }]);
			}
			return revoked;
		},
		endings: {
			record: async (tokens, reason) => {
				for (const token of tokens) recorded.push([token, reason]);
			},
			find: async (token) => {
				lookedUp.push(token);
				return storedEndings.get(token) ?? null;
			}
		},
		log: { session: (event, sessionId, fields = {}) => log.push([event, sessionId, fields]) },
		secret: SECRET,
		cookies: COOKIES,
		clock: () => SIGNED_IN_AT + now
	});
	if (setup.refreshedMeanwhile) {
		store.afterFind = () => {
			store.afterFind = null;
			const { session } = stored[0]!;
			void store.extend(session.id, at(now + IDLE), at(now), session.updatedAt);
		};
	}
	return { store, log, ended, lookedUp, recorded, validator };
}

describe('validateSessionCookie', () => {
	it.each(ROWS)('$name', async ({ setup, at: now, expect: expected }) => {
		const { store, log, ended, lookedUp, recorded, validator } = world(setup, now);
		const cookie = setup.cookie === undefined ? cookieFor(TOKEN) : setup.cookie;

		const result = await validator.validateSessionCookie(cookie);

		if (expected.signedIn) {
			expect(result.user?.id).toBe('user-1');
			expect(result.session?.id).toBe('session-1');
			expect(result.session?.expiresAt).toEqual(at(expected.signedIn.expiresAt));
			expect(result.session?.updatedAt).toEqual(at(expected.signedIn.updatedAt));
		} else {
			expect(result.session).toBeNull();
			expect(result.user).toBeNull();
		}
		expect(result.cookie).toEqual(expected.cookie);
		expect(
			store.extendCalls.map(({ sessionId, expiresAt, refreshedAt, wrote }) => {
				expect(sessionId).toBe('session-1');
				return {
					expiresAt: expiresAt.getTime() - SIGNED_IN_AT,
					refreshedAt: refreshedAt.getTime() - SIGNED_IN_AT,
					wrote
				};
			})
		).toEqual(expected.writes);
		expect(log).toEqual(expected.log);
		expect(ended).toEqual(expected.ended ?? []);
		if (expected.ended?.length) expect(store.row(TOKEN)).toBeUndefined();
		expect(result.endedReason ?? null).toBe(expected.endedReason ?? null);
		expect(lookedUp).toEqual(expected.lookedUp ?? []);
		expect(recorded).toEqual(expected.recorded ?? []);
	});

	it('a refresh moves the stored row, which the next request then finds not due', async () => {
		const { store, validator } = world({}, REFRESH);
		await validator.validateSessionCookie(cookieFor(TOKEN));
		expect(store.row(TOKEN)!.session).toMatchObject({ expiresAt: at(REFRESH + IDLE), updatedAt: at(REFRESH) });
		expect((await validator.validateSessionCookie(cookieFor(TOKEN))).cookie).toBeNull();
		expect(store.extendCalls).toHaveLength(1);
	});

	it('schedules nothing: an answer without a lookup does not wait for the end of the turn', async () => {
		const { validator } = world({}, 0);
		const order: string[] = [];
		setImmediate(() => order.push('queued before'));
		await validator.validateSessionCookie(null).then(() => order.push('no cookie'));
		expect(order).toEqual(['no cookie']);
		await nextTurn();
	});
});

describe('validateSessionCookie for a session bound to its device', () => {
	const BOUND: Partial<Session> = { deviceKey: '{"alg":"ES256","jwk":{}}', deviceBoundAt: at(0) };
	const CREDENTIAL = credentialCookieName(COOKIES);
	const LIFETIME = 10 * 60 * 1000;
	const withCredential = (value: string) => `${cookieFor(TOKEN)}; ${CREDENTIAL}=${value}`;

	function boundWorld(session: Partial<Session>, now: number) {
		const store = new MemorySessions([storedSession(session)]);
		const asked: string[] = [];
		const check = deviceCredentialCheck(SECRET, COOKIES);
		const revoked: string[] = [];
		const validator = createSessionValidator({
			store,
			revokeSession: async (token) => (revoked.push(token), store.end(token)),
			endings: { record: async () => undefined, find: async () => null },
			log: { session: () => undefined },
			secret: SECRET,
			cookies: COOKIES,
			deviceCredential: (header, sessionId, at) => (asked.push(sessionId), check(header, sessionId, at)),
			clock: () => SIGNED_IN_AT + now
		});
		return { store, asked, revoked, validator };
	}

	it('an unbound session never asks for a credential', async () => {
		const { asked, validator } = boundWorld({}, 1000);
		expect((await validator.validateSessionCookie(cookieFor(TOKEN))).session?.id).toBe('session-1');
		expect(asked).toEqual([]);
	});

	it('with a credential issued for it that has not expired: signed in', async () => {
		const { asked, validator } = boundWorld(BOUND, 1000);
		const value = credentialValue(SECRET, 'session-1', SIGNED_IN_AT + LIFETIME);
		expect((await validator.validateSessionCookie(withCredential(value))).session?.id).toBe('session-1');
		expect(asked).toEqual(['session-1']);
	});

	it.each([
		['no credential', cookieFor(TOKEN)],
		['an expired credential', withCredential(credentialValue(SECRET, 'session-1', SIGNED_IN_AT + 999))],
		[
			'a credential that expires this very millisecond',
			withCredential(credentialValue(SECRET, 'session-1', SIGNED_IN_AT + 1000))
		],
		['a credential of another session', withCredential(credentialValue(SECRET, 'session-2', SIGNED_IN_AT + LIFETIME))],
		[
			'a credential under another secret',
			withCredential(credentialValue('another-secret-0123456789abcdefghijklmn', 'session-1', SIGNED_IN_AT + LIFETIME))
		],
		[
			'a credential with its expiry moved',
			withCredential(
				`${SIGNED_IN_AT + LIFETIME * 2}.${credentialValue(SECRET, 'session-1', SIGNED_IN_AT + LIFETIME).split('.')[1]}`
			)
		],
		['a credential that is not one', withCredential('garbage')]
	])('with %s: refused for this request, the session and its cookie left alone', async (_, cookie) => {
		const { store, revoked, validator } = boundWorld(BOUND, 1000);
		const result = await validator.validateSessionCookie(cookie);
		expect(result).toEqual({ session: null, user: null, cookie: null, endedReason: null });
		expect(revoked).toEqual([]);
		expect(store.row(TOKEN)).toBeDefined();
	});

	it('a refused request never slides the session, even when a refresh is due', async () => {
		const { store, validator } = boundWorld(BOUND, REFRESH);
		expect((await validator.extendSessionCookie(cookieFor(TOKEN))).session).toBeNull();
		expect((await validator.validateSessionCookie(cookieFor(TOKEN))).session).toBeNull();
		expect(store.extendCalls).toEqual([]);
	});

	it('without a credential check given, a bound session is always refused', async () => {
		const store = new MemorySessions([storedSession(BOUND)]);
		const validator = createSessionValidator({
			store,
			revokeSession: async () => false,
			endings: { record: async () => undefined, find: async () => null },
			log: { session: () => undefined },
			secret: SECRET,
			cookies: COOKIES,
			clock: () => SIGNED_IN_AT
		});
		const value = credentialValue(SECRET, 'session-1', SIGNED_IN_AT + LIFETIME);
		expect((await validator.validateSessionCookie(withCredential(value))).session).toBeNull();
	});
});
