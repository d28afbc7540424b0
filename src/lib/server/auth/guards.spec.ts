import { isRedirect, type RequestEvent } from '@sveltejs/kit';
import { describe, expect, it, vi } from 'vitest';
import {
	requestActor,
	loginUrl,
	reauthUrl,
	requireAuth,
	requireFreshAuth,
	optionalAuth,
	type SignedIn
} from './guards';

/** The request getRequestEvent returns, as SvelteKit would hold it during a load or action. */
const current = vi.hoisted(() => ({ event: undefined as unknown }));
vi.mock('$app/server', () => ({ getRequestEvent: () => current.event }));
vi.mock('../config', () => ({ getConfig: () => ({ reauthWindowSeconds: 300 }) }));

const ORIGIN = 'https://latchkey.example';
const NOW = Date.parse('2026-03-15T12:00:00.000Z');

const USER = { id: 'user-1', email: 'ada@example.com', name: 'Ada' } as unknown as SignedIn['user'];

function sessionCreatedAt(createdAt: number): SignedIn['session'] {
	return { id: 'session-1', userId: USER.id, createdAt: new Date(createdAt) } as unknown as SignedIn['session'];
}

const SESSION = sessionCreatedAt(NOW - 60_000);

function fakeEvent(
	path: string,
	{
		user = null,
		session = null,
		address = '203.0.113.5',
		userAgent = null
	}: {
		user?: SignedIn['user'] | null;
		session?: SignedIn['session'] | null;
		address?: string;
		userAgent?: string | null;
	} = {}
): RequestEvent {
	const headers = new Headers();
	if (userAgent !== null) headers.set('user-agent', userAgent);
	return {
		locals: { user, session },
		url: new URL(path, ORIGIN),
		getClientAddress: () => address,
		request: new Request(new URL(path, ORIGIN), { headers })
	} as unknown as RequestEvent;
}

/** Runs `fn`, expecting a SvelteKit redirect; returns its status and location. */
function redirectOf(fn: () => unknown): { status: number; location: string } {
	try {
		fn();
	} catch (error) {
		if (isRedirect(error)) return { status: error.status, location: error.location };
		throw error;
	}
	throw new Error('expected a redirect, but nothing was thrown');
}

describe('requireAuth', () => {
	it('returns the user and session when signed in', () => {
		const signedIn = requireAuth(fakeEvent('/account', { user: USER, session: SESSION }));
		expect(signedIn).toEqual({ user: USER, session: SESSION });
		expect(signedIn.user).toBe(USER);
		expect(signedIn.session).toBe(SESSION);
	});

	it('redirects to sign-in with the page asked for', () => {
		expect(redirectOf(() => requireAuth(fakeEvent('/account/sessions?x=1')))).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount%2Fsessions%3Fx%3D1'
		});
	});

	it('redirects to plain sign-in from the home page', () => {
		expect(redirectOf(() => requireAuth(fakeEvent('/')))).toEqual({ status: 303, location: '/login' });
	});

	it('comes back to the page, not the form action', () => {
		expect(redirectOf(() => requireAuth(fakeEvent('/account?/deleteAccount')))).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount'
		});
	});

	it('redirects when there is a user but no session', () => {
		expect(redirectOf(() => requireAuth(fakeEvent('/account', { user: USER })))).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount'
		});
	});

	it('redirects when there is a session but no user', () => {
		expect(redirectOf(() => requireAuth(fakeEvent('/account', { session: SESSION })))).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount'
		});
	});
});

describe('optionalAuth', () => {
	it('returns the user and session when signed in', () => {
		const result = optionalAuth(fakeEvent('/', { user: USER, session: SESSION }));
		expect(result.user).toBe(USER);
		expect(result.session).toBe(SESSION);
	});

	it('returns nulls when signed out, without redirecting', () => {
		expect(optionalAuth(fakeEvent('/account'))).toEqual({ user: null, session: null });
	});

	it('returns nulls when only half signed in', () => {
		expect(optionalAuth(fakeEvent('/', { user: USER }))).toEqual({ user: null, session: null });
		expect(optionalAuth(fakeEvent('/', { session: SESSION }))).toEqual({ user: null, session: null });
	});
});

describe('requireFreshAuth', () => {
	const WINDOW = 900;

	it('returns the user and session signed in within the window', () => {
		const session = sessionCreatedAt(NOW - 899_000);
		const signedIn = requireFreshAuth(fakeEvent('/account', { user: USER, session }), WINDOW, NOW);
		expect(signedIn.user).toBe(USER);
		expect(signedIn.session).toBe(session);
	});

	it('accepts a session exactly at the edge of the window', () => {
		const session = sessionCreatedAt(NOW - 900_000);
		expect(requireFreshAuth(fakeEvent('/account', { user: USER, session }), WINDOW, NOW).session).toBe(session);
	});

	it('sends an older session to re-authenticate, coming back to the page', () => {
		const session = sessionCreatedAt(NOW - 900_001);
		expect(
			redirectOf(() => requireFreshAuth(fakeEvent('/account/sessions?x=1', { user: USER, session }), WINDOW, NOW))
		).toEqual({ status: 303, location: '/reauth?redirectTo=%2Faccount%2Fsessions%3Fx%3D1' });
	});

	it('sends a stale form action back to its page after re-authentication', () => {
		const session = sessionCreatedAt(NOW - 3_600_000);
		expect(
			redirectOf(() => requireFreshAuth(fakeEvent('/account?/deleteAccount', { user: USER, session }), WINDOW, NOW))
		).toEqual({ status: 303, location: '/reauth?redirectTo=%2Faccount' });
	});

	it('sends a signed-out visitor to sign in, not to re-authenticate', () => {
		expect(redirectOf(() => requireFreshAuth(fakeEvent('/account/sessions'), WINDOW, NOW))).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount%2Fsessions'
		});
	});

	it('defaults to the current time', () => {
		const fresh = sessionCreatedAt(Date.now() - 1000);
		expect(requireFreshAuth(fakeEvent('/account', { user: USER, session: fresh }), WINDOW).session).toBe(fresh);
		const stale = sessionCreatedAt(Date.now() - 3_600_000);
		expect(redirectOf(() => requireFreshAuth(fakeEvent('/account', { user: USER, session: stale }), WINDOW))).toEqual({
			status: 303,
			location: '/reauth?redirectTo=%2Faccount'
		});
	});
});

describe('loginUrl and reauthUrl', () => {
	const CASES: Array<[string, string]> = [
		['/', ''],
		['/account', '?redirectTo=%2Faccount'],
		['/account/sessions?x=1', '?redirectTo=%2Faccount%2Fsessions%3Fx%3D1'],
		['/account?/deleteAccount', '?redirectTo=%2Faccount'],
		['/?/signOut', ''],
		['/search?q=a%20b&c=%26', '?redirectTo=%2Fsearch%3Fq%3Da%2520b%26c%3D%2526'],
		['/account#section', '?redirectTo=%2Faccount']
	];

	it.each(CASES)('from %s', (path, query) => {
		const from = new URL(path, ORIGIN);
		expect(loginUrl(from)).toBe(`/login${query}`);
		expect(reauthUrl(from)).toBe(`/reauth${query}`);
	});
});

describe('requestActor', () => {
	it('names the user, session, client address and user agent', () => {
		const event = fakeEvent('/account', {
			user: USER,
			session: SESSION,
			address: '2001:db8:1:2::1',
			userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0'
		});
		expect(requestActor({ user: USER, session: SESSION }, event)).toEqual({
			userId: 'user-1',
			sessionId: 'session-1',
			ipAddress: '2001:db8:1:2::1',
			userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0'
		});
	});

	it('gives a null user agent when the request has none', () => {
		const event = fakeEvent('/account', { user: USER, session: SESSION });
		expect(requestActor({ user: USER, session: SESSION }, event)).toEqual({
			userId: 'user-1',
			sessionId: 'session-1',
			ipAddress: '203.0.113.5',
			userAgent: null
		});
	});
});

describe('called from a load or action, without an event', () => {
	it('requireAuth and optionalAuth read the current request', () => {
		current.event = fakeEvent('/account', { user: USER, session: SESSION });
		expect(requireAuth()).toEqual({ user: USER, session: SESSION });
		expect(optionalAuth()).toEqual({ user: USER, session: SESSION });
		current.event = fakeEvent('/account/sessions');
		expect(redirectOf(() => requireAuth())).toEqual({
			status: 303,
			location: '/login?redirectTo=%2Faccount%2Fsessions'
		});
		expect(optionalAuth()).toEqual({ user: null, session: null });
	});

	it('requireFreshAuth holds the current request to the configured re-auth window', () => {
		current.event = fakeEvent('/account/sessions', { user: USER, session: sessionCreatedAt(Date.now() - 60_000) });
		expect(requireFreshAuth().user).toBe(USER);
		current.event = fakeEvent('/account/sessions', { user: USER, session: sessionCreatedAt(Date.now() - 301_000) });
		expect(redirectOf(() => requireFreshAuth())).toEqual({
			status: 303,
			location: '/reauth?redirectTo=%2Faccount%2Fsessions'
		});
	});

	it('requestActor reads the address and user agent of the current request', () => {
		current.event = fakeEvent('/account', { user: USER, session: SESSION, userAgent: 'Firefox' });
		expect(requestActor({ user: USER, session: SESSION })).toMatchObject({
			ipAddress: '203.0.113.5',
			userAgent: 'Firefox'
		});
	});
});
