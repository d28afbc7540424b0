/** The environment as process.env gives it (config.ts's Env, without importing config). */
type Env = Record<string, string | undefined>;

/** OAuth / OpenID Connect sign-in options, each present only when the operator configured it. */
export interface OAuthClient {
	clientId: string;
	clientSecret: string;
}

export interface OidcClient extends OAuthClient {
	/** The issuer URL; its discovery document is at /.well-known/openid-configuration. */
	issuer: string;
	/** The button's label: "Sign in with <name>". */
	name: string;
}

export interface OAuthProviders {
	github: OAuthClient | null;
	google: OAuthClient | null;
	oidc: OidcClient | null;
}

/** Better Auth's provider id for the generic OpenID Connect provider (callback /api/auth/callback/oidc). */
export const OIDC_PROVIDER_ID = 'oidc';
const DEFAULT_OIDC_NAME = 'single sign-on';
/**
 * Hosts whose traffic never leaves the machine: the one place a plain-http issuer cannot be read
 * or altered on the way, so its discovery document and tokens can be trusted in production.
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `production`: the production rules apply (config.ts's productionRules), so the issuer must use https. */
export function parseOAuthProviders(env: Env, production: boolean): OAuthProviders {
	return {
		github: clientFrom(env, 'GITHUB'),
		google: clientFrom(env, 'GOOGLE'),
		oidc: oidcFrom(env, production)
	};
}

/** Both halves or neither: a lone client id or secret is a half-finished configuration. */
function clientFrom(env: Env, prefix: string): OAuthClient | null {
	const clientId = env[`${prefix}_CLIENT_ID`]?.trim();
	const clientSecret = env[`${prefix}_CLIENT_SECRET`]?.trim();
	if (!clientId && !clientSecret) return null;
	if (!clientId || !clientSecret) {
		const missing = clientId ? `${prefix}_CLIENT_SECRET` : `${prefix}_CLIENT_ID`;
		throw new Error(`${missing} is missing: set both ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET, or neither`);
	}
	return { clientId, clientSecret };
}

function oidcFrom(env: Env, production: boolean): OidcClient | null {
	const issuer = env.OIDC_ISSUER?.trim();
	const client = clientFrom(env, 'OIDC');
	if (!issuer && !client) return null;
	if (!issuer) throw new Error('OIDC_ISSUER is missing: the issuer URL of your OpenID Connect provider');
	if (!client) throw new Error('OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are missing for OIDC_ISSUER');
	let url: URL;
	try {
		url = new URL(issuer);
	} catch {
		throw new Error(`OIDC_ISSUER "${issuer}" is not a URL; use the issuer's base URL, e.g. https://id.example.com`);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new Error(`OIDC_ISSUER "${issuer}" must start with https:// (or http:// for a local test issuer)`);
	}
	if (production && url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
		throw new Error(
			`OIDC_ISSUER "${issuer}" must use https:// in production; plain http:// is accepted only for a local test issuer (localhost, 127.0.0.1, [::1])`
		);
	}
	return { ...client, issuer: issuer.replace(/\/+$/, ''), name: env.OIDC_NAME?.trim() || DEFAULT_OIDC_NAME };
}

/**
 * The providers Better Auth was given, by the id in their callback URL
 * (`/api/auth/callback/<id>`): github, google, and OIDC_PROVIDER_ID for the OpenID Connect one.
 */
export function configuredProviderIds(providers: OAuthProviders): string[] {
	const ids: string[] = [];
	if (providers.github) ids.push('github');
	if (providers.google) ids.push('google');
	if (providers.oidc) ids.push(OIDC_PROVIDER_ID);
	return ids;
}

export interface ProviderButton {
	id: string;
	label: string;
}

/** The sign-in buttons /login shows, in a fixed order; none for an unconfigured provider. */
export function providerButtons(providers: OAuthProviders): ProviderButton[] {
	const buttons: ProviderButton[] = [];
	if (providers.github) buttons.push({ id: 'github', label: 'GitHub' });
	if (providers.google) buttons.push({ id: 'google', label: 'Google' });
	if (providers.oidc) buttons.push({ id: OIDC_PROVIDER_ID, label: providers.oidc.name });
	return buttons;
}
