import { describe, expect, it } from 'vitest';
import { OIDC_PROVIDER_ID, parseOAuthProviders, providerButtons } from './providers';

describe('parseOAuthProviders', () => {
	it('configures nothing when no variable is set', () => {
		expect(parseOAuthProviders({}, true)).toEqual({ github: null, google: null, oidc: null });
		expect(providerButtons(parseOAuthProviders({}, true))).toEqual([]);
	});

	it('reads each provider whose id and secret are both set, in a fixed button order', () => {
		const providers = parseOAuthProviders(
			{
				OIDC_ISSUER: 'https://id.example.com/',
				OIDC_CLIENT_ID: 'oidc-id',
				OIDC_CLIENT_SECRET: 'oidc-secret',
				OIDC_NAME: 'Example ID',
				GOOGLE_CLIENT_ID: 'google-id',
				GOOGLE_CLIENT_SECRET: 'google-secret',
				GITHUB_CLIENT_ID: 'github-id',
				GITHUB_CLIENT_SECRET: 'github-secret'
			},
			true
		);
		expect(providers.github).toEqual({ clientId: 'github-id', clientSecret: 'github-secret' });
		expect(providers.google).toEqual({ clientId: 'google-id', clientSecret: 'google-secret' });
		expect(providers.oidc).toEqual({
			clientId: 'oidc-id',
			clientSecret: 'oidc-secret',
			issuer: 'https://id.example.com',
			name: 'Example ID'
		});
		expect(providerButtons(providers)).toEqual([
			{ id: 'github', label: 'GitHub' },
			{ id: 'google', label: 'Google' },
			{ id: OIDC_PROVIDER_ID, label: 'Example ID' }
		]);
	});

	it('names a generic provider "single sign-on" when OIDC_NAME is unset', () => {
		const providers = parseOAuthProviders(
			{
				OIDC_ISSUER: 'https://id.example.com',
				OIDC_CLIENT_ID: 'a',
				OIDC_CLIENT_SECRET: 'b'
			},
			true
		);
		expect(providerButtons(providers)).toEqual([{ id: 'oidc', label: 'single sign-on' }]);
	});

	it.each([
		[{ GITHUB_CLIENT_ID: 'x' }, 'GITHUB_CLIENT_SECRET is missing'],
		[{ GOOGLE_CLIENT_SECRET: 'x' }, 'GOOGLE_CLIENT_ID is missing'],
		[{ OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' }, 'OIDC_ISSUER is missing'],
		[{ OIDC_ISSUER: 'https://id.example.com' }, 'OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are missing'],
		[
			{ OIDC_ISSUER: 'not a url', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' },
			'OIDC_ISSUER "not a url" is not a URL'
		],
		[{ OIDC_ISSUER: 'ftp://id.example.com', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' }, 'must start with https://']
	])('refuses a half-finished configuration: %j', (env, message) => {
		expect(() => parseOAuthProviders(env, true)).toThrow(message);
	});
});

describe('an http:// OIDC issuer', () => {
	const client = { OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' };

	it.each(['http://id.example.com', 'http://10.0.0.5:8080', 'http://localhost.example.com', 'http://127.0.0.1.nip.io'])(
		'is refused in production: %s',
		(issuer) => {
			expect(() => parseOAuthProviders({ OIDC_ISSUER: issuer, ...client }, true)).toThrow(
				`OIDC_ISSUER "${issuer}" must use https:// in production`
			);
		}
	);

	it.each(['http://localhost:8080', 'http://127.0.0.1:4199', 'http://[::1]:9000/realms/test'])(
		'is accepted in production on a loopback address: %s',
		(issuer) => {
			expect(parseOAuthProviders({ OIDC_ISSUER: issuer, ...client }, true).oidc?.issuer).toBe(issuer);
		}
	);

	it('is accepted in development, wherever it is', () => {
		const providers = parseOAuthProviders({ OIDC_ISSUER: 'http://id.example.com', ...client }, false);
		expect(providers.oidc?.issuer).toBe('http://id.example.com');
	});

	it('over https is accepted in production', () => {
		const providers = parseOAuthProviders({ OIDC_ISSUER: 'https://id.example.com', ...client }, true);
		expect(providers.oidc?.issuer).toBe('https://id.example.com');
	});
});
