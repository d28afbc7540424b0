import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { OAuthProviders } from './providers';

const current = vi.hoisted(() => ({ oauth: { github: null, google: null, oidc: null } as OAuthProviders }));
vi.mock('../config', () => ({ getConfig: () => ({ oauth: current.oauth }) }));
vi.mock('./server', () => ({ getAuth: () => ({ options: {} }) }));
vi.mock('better-auth/svelte-kit', () => ({
	svelteKitHandler: vi.fn(async () => new Response('Better Auth', { status: 302 }))
}));

const { authEndpoints, reachesBetterAuth, writeSessionCookie } = await import('./handles');
const { svelteKitHandler } = await import('better-auth/svelte-kit');

const client = { clientId: 'id', clientSecret: 'secret' };
const NONE: OAuthProviders = { github: null, google: null, oidc: null };
const ALL: OAuthProviders = {
	github: client,
	google: client,
	oidc: { ...client, issuer: 'https://id.example.com', name: 'Example ID' }
};

describe("writeSessionCookie (the validator's verdict on the cookie)", () => {
	function fakeEvent() {
		const fake = { set: vi.fn(), delete: vi.fn(), get: vi.fn(), getAll: vi.fn(), serialize: vi.fn() };
		return { fake, event: { cookies: fake as unknown as Cookies } };
	}

	it('does nothing for no action', () => {
		const { fake, event } = fakeEvent();
		writeSessionCookie(event, null);

		for (const method of Object.values(fake)) expect(method).not.toHaveBeenCalled();
	});
});

describe('reachesBetterAuth (which /api/auth paths Better Auth serves)', () => {
	it.each(['github', 'google', 'oidc'])('serves the callback of a configured provider: %s', (id) => {
		expect(reachesBetterAuth(`/api/auth/callback/${id}`, ALL)).toBe(true);
	});

	it.each(['github', 'google', 'oidc', 'get-session', 'apple', ''])(
		'serves no callback when no provider is configured: callback/%s',
		(id) => {
			expect(reachesBetterAuth(`/api/auth/callback/${id}`, NONE)).toBe(false);
		}
	);

	it('serves only the configured one of several', () => {
		const onlyOidc = { ...NONE, oidc: ALL.oidc };
		expect(reachesBetterAuth('/api/auth/callback/oidc', onlyOidc)).toBe(true);
		expect(reachesBetterAuth('/api/auth/callback/github', onlyOidc)).toBe(false);
		expect(reachesBetterAuth('/api/auth/callback/google', onlyOidc)).toBe(false);
	});

	it.each([
		'/api/auth/callback/github/',
		'/api/auth/callback/github/extra',
		'/api/auth/callback/oidc/../get-session',
		'/api/auth/callback/get-session',
		'/api/auth/callback/GitHub',
		'/api/auth/callback/git%68ub',
		'/api/auth/callback/github%2Fextra',
		'/api/auth/callback/github;x',
		'/api/auth/callback',
		'/api/auth/callback/',
		'/api/auth/get-session',
		'/api/auth/sign-in/social',
		'/api/auth/oauth2/callback/oidc',
		'/api/auth',
		'/api/auth/',
		'/api/authcallback/github'
	])('serves nothing else, even with every provider configured: %s', (pathname) => {
		expect(reachesBetterAuth(pathname, ALL)).toBe(false);
	});
});

describe('authEndpoints (the handle)', () => {
	const resolve = vi.fn(async () => new Response('page', { status: 200 }));

	function run(path: string) {
		const event = { url: new URL(path, 'https://auth.example.com') } as RequestEvent;
		return authEndpoints({ event, resolve }) as Promise<Response>;
	}

	beforeEach(() => {
		resolve.mockClear();
		vi.mocked(svelteKitHandler).mockClear();
		current.oauth = { ...NONE, github: client };
	});

	it('hands a configured provider’s callback to Better Auth', async () => {
		const response = await run('/api/auth/callback/github?code=x&state=y');
		expect(response.status).toBe(302);
		expect(svelteKitHandler).toHaveBeenCalledOnce();
		expect(resolve).not.toHaveBeenCalled();
	});

	it.each([
		'/api/auth/callback/oidc',
		'/api/auth/callback/google',
		'/api/auth/callback/get-session',
		'/api/auth/callback/github/extra',
		'/api/auth/get-session',
		'/api/auth'
	])('answers %s with the same no-store 404, reaching neither Better Auth nor a page', async (path) => {
		const response = await run(path);
		expect(response.status).toBe(404);
		expect(response.headers.get('cache-control')).toBe('no-store');
		expect(await response.text()).toBe('Not found');
		expect(svelteKitHandler).not.toHaveBeenCalled();
		expect(resolve).not.toHaveBeenCalled();
	});

	it('leaves every other path to the pages', async () => {
		for (const path of ['/', '/login', '/api/authx', '/api/other/callback/github']) {
			expect((await run(path)).status, path).toBe(200);
		}
		expect(resolve).toHaveBeenCalledTimes(4);
		expect(svelteKitHandler).not.toHaveBeenCalled();
	});
});
