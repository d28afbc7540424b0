import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDatabaseUrl } from './db/target';
import { knownDeviceCookieName } from './auth/known-device';
import { sessionCookieName } from './auth/cookies';
import {
	ConfigError,
	DEFAULT_COOKIE_PREFIX,
	isLoopbackHost,
	loadConfig,
	parseCookieDomain,
	parseCookiePrefix,
	parseDeviceBound,
	parseOrigin,
	parseSessionLimit,
	parseSwitch,
	type AppConfig,
	type Env,
	type Runtime
} from './config';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const PRODUCTION: Env = {
	NODE_ENV: 'production',
	ORIGIN: 'https://auth.example.com',
	BETTER_AUTH_SECRET: SECRET,
	SMTP_URL: 'smtps://mailer:mail-password@smtp.example.com:465',
	MAIL_FROM: 'Latchkey <no-reply@example.com>'
};

const MUST_USE_HTTPS =
	'must use https:// in production; plain http:// is accepted only on this machine (localhost, 127.0.0.0/8, [::1])';

/** The names of the session and known-device cookies this configuration issues. */
function cookieNames(config: AppConfig): string[] {
	return [sessionCookieName(config.cookies), knownDeviceCookieName(config.cookies)];
}

let dataDir: string;

beforeEach(() => {
	dataDir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
});

afterEach(() => {
	vi.restoreAllMocks();
	rmSync(dataDir, { recursive: true, force: true });
});

/** The ConfigError loadConfig throws for this environment (fails the test if it does not throw one). */
function configError(env: Env, runtime: Runtime = 'tool'): ConfigError {
	try {
		loadConfig(env, dataDir, runtime);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return error as ConfigError;
	}
	throw new Error('loadConfig accepted an environment it should refuse');
}

describe('loadConfig in development', () => {
	it('falls back to working defaults when nothing is set', () => {
		const info = vi.spyOn(console, 'info').mockImplementation(() => {});
		const config = loadConfig({}, dataDir);

		expect(config.production).toBe(false);
		expect(config.origin).toBe('http://localhost:5173');
		// Which engine and where: db/target.spec.ts.
		expect(config.database).toEqual(parseDatabaseUrl(undefined));
		expect(config.autoMigrate).toBe(true);
		expect(config.sessions).toEqual({
			appPolicy: {
				name: 'standard',
				idleSeconds: 7 * 24 * 60 * 60,
				refreshSeconds: 24 * 60 * 60,
				absoluteSeconds: 30 * 24 * 60 * 60
			},
			rememberMeOffered: true
		});
		expect(config.sessionLimit).toBeNull();
		expect(config.cookies).toEqual({ prefix: 'latchkey', domain: null, secure: false });
		expect(config.mail).toEqual({ smtpUrl: null, from: 'Latchkey <no-reply@localhost>' });
		expect(config.secret.length).toBeGreaterThanOrEqual(32);
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(true);
		expect(info).toHaveBeenCalledTimes(1);
	});

	it('treats an empty SMTP_URL as unset (development outbox)', () => {
		const config = loadConfig({ BETTER_AUTH_SECRET: SECRET, SMTP_URL: '  ' }, dataDir);
		expect(config.mail.smtpUrl).toBeNull();
	});

	it('uses the values it is given', () => {
		const config = loadConfig(
			{
				ORIGIN: 'https://auth.example.com/',
				DATABASE_URL: 'file:./elsewhere/latchkey.db',
				DATABASE_AUTO_MIGRATE: 'off',
				BETTER_AUTH_SECRET: SECRET,
				SMTP_URL: 'smtp://localhost:2525',
				MAIL_FROM: 'Test <test@example.com>'
			},
			dataDir
		);

		expect(config.origin).toBe('https://auth.example.com');
		expect(config.database).toEqual(parseDatabaseUrl('file:./elsewhere/latchkey.db'));
		expect(config.autoMigrate).toBe(false);
		expect(config.secret).toBe(SECRET);
		expect(config.mail).toEqual({ smtpUrl: 'smtp://localhost:2525', from: 'Test <test@example.com>' });
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});
});

describe('MAX_SESSIONS_PER_USER and SESSION_LIMIT_ACTION', () => {
	it('leaves sessions unlimited when unset, empty or off', () => {
		expect(parseSessionLimit({})).toBeNull();
		expect(parseSessionLimit({ MAX_SESSIONS_PER_USER: ' ' })).toBeNull();
		expect(parseSessionLimit({ MAX_SESSIONS_PER_USER: 'off' })).toBeNull();
	});

	it('takes a positive whole number, ending the oldest sessions by default', () => {
		expect(parseSessionLimit({ MAX_SESSIONS_PER_USER: ' 3 ' })).toEqual({ max: 3, action: 'end-oldest' });
		expect(parseSessionLimit({ MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_ACTION: 'end-oldest' })).toEqual({
			max: 1,
			action: 'end-oldest'
		});
	});

	it('takes refuse as the other action, in any case', () => {
		expect(parseSessionLimit({ MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_ACTION: ' Refuse ' })).toEqual({
			max: 2,
			action: 'refuse'
		});
	});

	it('refuses anything else at startup, naming the value', () => {
		for (const value of ['0', '-2', '2.5', 'two', '1e3', '99999999999999999999'])
			expect(configError({ MAX_SESSIONS_PER_USER: value }).problems).toEqual([
				`MAX_SESSIONS_PER_USER="${value}" must be a whole number of at least 1, or off`
			]);
		expect(configError({ MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_ACTION: 'kick' }).problems).toEqual([
			'SESSION_LIMIT_ACTION="kick" is not an action; use end-oldest or refuse'
		]);
	});
});

describe('DEVICE_BOUND_SESSIONS and DEVICE_BOUND_CREDENTIAL_LIFETIME', () => {
	it('is off by default, with credentials of ten minutes', () => {
		expect(parseDeviceBound({})).toEqual({ enabled: false, credentialLifetimeSeconds: 600 });
		expect(loadConfig({}, dataDir).deviceBound).toEqual({ enabled: false, credentialLifetimeSeconds: 600 });
	});

	it('takes on or off and a duration from a minute to an hour', () => {
		expect(parseDeviceBound({ DEVICE_BOUND_SESSIONS: ' On ' })).toEqual({
			enabled: true,
			credentialLifetimeSeconds: 600
		});
		expect(parseDeviceBound({ DEVICE_BOUND_SESSIONS: 'off', DEVICE_BOUND_CREDENTIAL_LIFETIME: '1m' })).toEqual({
			enabled: false,
			credentialLifetimeSeconds: 60
		});
		expect(parseDeviceBound({ DEVICE_BOUND_SESSIONS: 'on', DEVICE_BOUND_CREDENTIAL_LIFETIME: '1h' })).toEqual({
			enabled: true,
			credentialLifetimeSeconds: 3600
		});
	});

	it('refuses anything else at startup, naming the value', () => {
		expect(configError({ DEVICE_BOUND_SESSIONS: 'yes please' }).problems).toEqual([
			'DEVICE_BOUND_SESSIONS="yes please" must be on or off'
		]);
		expect(configError({ DEVICE_BOUND_CREDENTIAL_LIFETIME: '30s' }).problems).toEqual([
			'DEVICE_BOUND_CREDENTIAL_LIFETIME="30s" is 30s; use a duration from 1m to 1h'
		]);
		expect(configError({ DEVICE_BOUND_CREDENTIAL_LIFETIME: '2h' }).problems).toEqual([
			'DEVICE_BOUND_CREDENTIAL_LIFETIME="2h" is 7200s; use a duration from 1m to 1h'
		]);
		expect(configError({ DEVICE_BOUND_CREDENTIAL_LIFETIME: 'soon' }).problems).toEqual([
			'DEVICE_BOUND_CREDENTIAL_LIFETIME="soon" is not a duration; use seconds (3600) or a number with s, m, h or d (15m, 1h, 30d)'
		]);
	});
});

describe('loadConfig in production', () => {
	it('accepts a complete environment', () => {
		const config = loadConfig(PRODUCTION, dataDir);

		expect(config.production).toBe(true);
		expect(config.origin).toBe('https://auth.example.com');
		expect(config.secret).toBe(SECRET);
		expect(config.mail).toEqual({
			smtpUrl: 'smtps://mailer:mail-password@smtp.example.com:465',
			from: 'Latchkey <no-reply@example.com>'
		});
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});

	it.each([
		['BETTER_AUTH_SECRET', /^BETTER_AUTH_SECRET is required in production/],
		['ORIGIN', /^ORIGIN is required in production/],
		['SMTP_URL', /^SMTP_URL is required in production/],
		['MAIL_FROM', /^MAIL_FROM is required in production when SMTP_URL is set/]
	])('refuses to start without %s', (variable, message) => {
		const env = { ...PRODUCTION, [variable]: undefined };
		const error = configError(env);

		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toMatch(message);
		expect(error.message).toContain(variable);
	});

	it('does not generate a development secret', () => {
		configError({ ...PRODUCTION, BETTER_AUTH_SECRET: undefined });
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});
});

describe('loadConfig in a production build, whatever NODE_ENV says', () => {
	const withoutNodeEnv: Env = { ...PRODUCTION, NODE_ENV: undefined };

	it.each([undefined, 'development', 'test'])(
		'refuses to start without SMTP_URL and BETTER_AUTH_SECRET (NODE_ENV=%s), naming both',
		(nodeEnv) => {
			const error = configError(
				{ ...withoutNodeEnv, NODE_ENV: nodeEnv, SMTP_URL: undefined, BETTER_AUTH_SECRET: undefined },
				'production-build'
			);

			expect(error.problems).toHaveLength(2);
			expect(error.problems[0]).toMatch(/^SMTP_URL is required in production/);
			expect(error.problems[1]).toMatch(/^BETTER_AUTH_SECRET is required in production/);
			expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
		}
	);

	it('accepts a complete environment without NODE_ENV', () => {
		const config = loadConfig(withoutNodeEnv, dataDir, 'production-build');
		expect(config.production).toBe(true);
		expect(config.mail.smtpUrl).toBe(PRODUCTION.SMTP_URL);
		expect(config.secret).toBe(SECRET);
	});

	it.each([undefined, 'development', 'test'])('refuses to start without ORIGIN (NODE_ENV=%s)', (nodeEnv) => {
		const error = configError({ ...withoutNodeEnv, NODE_ENV: nodeEnv, ORIGIN: undefined }, 'production-build');
		expect(error.problems).toEqual([expect.stringMatching(/^ORIGIN is required in production/)]);
	});

	it.each(['http://auth.example.com', 'http://10.0.0.5:3000', 'http://192.168.1.2', 'http://[2001:db8::1]:3000'])(
		'refuses a plain-http ORIGIN off this machine: %s',
		(origin) => {
			const error = configError({ ...withoutNodeEnv, ORIGIN: origin }, 'production-build');
			expect(error.problems).toEqual([`ORIGIN "${origin}" ${MUST_USE_HTTPS}`]);
		}
	);

	it.each([
		['https://auth.example.com', 'https://auth.example.com'],
		['http://localhost:4173', 'http://localhost:4173'],
		['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
		['http://127.8.9.10', 'http://127.8.9.10'],
		['http://[::1]:3000', 'http://[::1]:3000']
	])('accepts ORIGIN %s', (raw, origin) => {
		expect(loadConfig({ ...withoutNodeEnv, ORIGIN: raw }, dataDir, 'production-build').origin).toBe(origin);
	});

	it.each(['https://auth.example.com', 'http://localhost:4173', 'http://127.0.0.1:3000', 'http://[::1]:3000'])(
		'makes every cookie Secure and __Host- on %s, whatever NODE_ENV says',
		(origin) => {
			for (const nodeEnv of [undefined, 'development', 'test']) {
				const config = loadConfig(
					{ ...withoutNodeEnv, NODE_ENV: nodeEnv, ORIGIN: origin },
					dataDir,
					'production-build'
				);
				expect(config.cookies, `NODE_ENV=${nodeEnv}`).toEqual({ prefix: 'latchkey', domain: null, secure: true });
				expect(cookieNames(config)).toEqual(['__Host-latchkey.session_token', '__Host-latchkey.known_device']);
			}
		}
	);

	it('keeps the session cookie Secure with COOKIE_DOMAIN, under __Secure- (a __Host- cookie has no Domain)', () => {
		const config = loadConfig(
			{ ...withoutNodeEnv, ORIGIN: 'https://auth.example.com', COOKIE_DOMAIN: 'example.com' },
			dataDir,
			'production-build'
		);
		expect(config.cookies).toEqual({ prefix: 'latchkey', domain: 'example.com', secure: true });
		expect(cookieNames(config)).toEqual(['__Secure-latchkey.session_token', '__Host-latchkey.known_device']);
	});

	it('requires MAIL_FROM with SMTP_URL without NODE_ENV', () => {
		const error = configError({ ...withoutNodeEnv, MAIL_FROM: undefined }, 'production-build');
		expect(error.problems).toEqual([
			expect.stringMatching(/^MAIL_FROM is required in production when SMTP_URL is set/)
		]);
	});

	it('names every problem in one message: ORIGIN, SMTP_URL and BETTER_AUTH_SECRET missing', () => {
		const error = configError({ DATABASE_URL: 'file:latchkey.db' }, 'production-build');
		expect(error.problems.map((problem) => problem.split(' ')[0])).toEqual([
			'ORIGIN',
			'SMTP_URL',
			'BETTER_AUTH_SECRET'
		]);
		for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});

	it('names a plain-http ORIGIN together with the other problems', () => {
		const error = configError(
			{ ...withoutNodeEnv, ORIGIN: 'http://auth.example.com', MAIL_FROM: undefined, COOKIE_PREFIX: 'my app' },
			'production-build'
		);
		expect(error.problems.map((problem) => problem.split(/[ =]/)[0])).toEqual(['ORIGIN', 'MAIL_FROM', 'COOKIE_PREFIX']);
	});

	it('refuses an http OIDC issuer off the machine, and accepts a loopback one', () => {
		const oidc = { OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' };
		const error = configError({ ...withoutNodeEnv, ...oidc, OIDC_ISSUER: 'http://id.example.com' }, 'production-build');
		expect(error.problems).toEqual([
			expect.stringMatching(/^OIDC_ISSUER "http:\/\/id.example.com" must use https:\/\//)
		]);

		const loopback = { ...withoutNodeEnv, ...oidc, OIDC_ISSUER: 'http://127.0.0.1:4199' };
		expect(loadConfig(loopback, dataDir, 'production-build').oauth.oidc?.issuer).toBe('http://127.0.0.1:4199');
	});
});

describe('loadConfig in the development server, whatever NODE_ENV says', () => {
	it('defaults ORIGIN and leaves cookies not Secure over http', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		const config = loadConfig({}, dataDir, 'dev-server');

		expect(config.production).toBe(false);
		expect(config.origin).toBe('http://localhost:5173');
		expect(config.cookies.secure).toBe(false);
		expect(cookieNames(config)).toEqual(['latchkey.session_token', 'latchkey.known_device']);
	});

	it('holds to ORIGIN and Secure cookies under NODE_ENV=production, as a tool does', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		expect(configError({ NODE_ENV: 'production' }, 'dev-server').problems).toEqual([
			expect.stringMatching(/^ORIGIN is required in production/)
		]);
		const config = loadConfig({ NODE_ENV: 'production', ORIGIN: 'http://localhost:5173' }, dataDir, 'dev-server');
		expect(config.cookies.secure).toBe(true);
	});

	it('falls back to the outbox and a generated secret even under NODE_ENV=production', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		const config = loadConfig({ NODE_ENV: 'production', ORIGIN: 'http://localhost:5173' }, dataDir, 'dev-server');

		expect(config.mail.smtpUrl).toBeNull();
		expect(config.secret.length).toBeGreaterThanOrEqual(32);
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(true);
	});

	it('accepts an http OIDC issuer anywhere', () => {
		const config = loadConfig(
			{
				BETTER_AUTH_SECRET: SECRET,
				OIDC_ISSUER: 'http://keycloak.internal:8080/realms/dev',
				OIDC_CLIENT_ID: 'a',
				OIDC_CLIENT_SECRET: 'b'
			},
			dataDir,
			'dev-server'
		);
		expect(config.oauth.oidc?.issuer).toBe('http://keycloak.internal:8080/realms/dev');
	});
});

describe('loadConfig in a tool without a build (the CLI, the tests)', () => {
	it('goes by NODE_ENV=production', () => {
		const error = configError({ ...PRODUCTION, SMTP_URL: undefined });
		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toMatch(/^SMTP_URL is required in production/);
		expect(loadConfig({ ...PRODUCTION, NODE_ENV: undefined, SMTP_URL: undefined }, dataDir).mail.smtpUrl).toBeNull();
	});

	it('applies the ORIGIN and cookie rules under NODE_ENV=production only', () => {
		expect(configError({ ...PRODUCTION, ORIGIN: undefined }).problems).toEqual([
			expect.stringMatching(/^ORIGIN is required in production/)
		]);
		expect(configError({ ...PRODUCTION, ORIGIN: 'http://auth.example.com' }).problems).toEqual([
			`ORIGIN "http://auth.example.com" ${MUST_USE_HTTPS}`
		]);
		expect(loadConfig({ ...PRODUCTION, ORIGIN: 'http://localhost:3000' }, dataDir).cookies.secure).toBe(true);

		const tool = loadConfig({ BETTER_AUTH_SECRET: SECRET, ORIGIN: 'http://auth.example.com' }, dataDir);
		expect(tool.production).toBe(false);
		expect(tool.cookies.secure).toBe(false);
		expect(loadConfig({ BETTER_AUTH_SECRET: SECRET }, dataDir).origin).toBe('http://localhost:5173');
	});

	it('refuses an http OIDC issuer off the machine under NODE_ENV=production', () => {
		const oidc = { OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' };
		expect(configError({ ...PRODUCTION, ...oidc }).problems).toEqual([
			expect.stringMatching(/^OIDC_ISSUER .* must use https:\/\//)
		]);
		expect(loadConfig({ ...PRODUCTION, ...oidc, NODE_ENV: undefined }, dataDir).oauth.oidc?.issuer).toBe(
			'http://id.example.com'
		);
	});
});

describe('getConfig', () => {
	afterEach(() => {
		vi.unstubAllEnvs();
		vi.resetModules();
	});

	it('applies the production rules to a server that has not said which build it is', async () => {
		vi.resetModules();
		for (const name of ['NODE_ENV', 'SMTP_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'])
			vi.stubEnv(name, '');
		vi.stubEnv('BETTER_AUTH_SECRET', SECRET);
		const { getConfig } = await import('./config');

		expect(() => getConfig()).toThrow(/SMTP_URL is required in production/);
	});

	it("uses the development server's rules once the build says so", async () => {
		vi.resetModules();
		for (const name of ['NODE_ENV', 'SMTP_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'])
			vi.stubEnv(name, '');
		vi.stubEnv('BETTER_AUTH_SECRET', SECRET);
		const { getConfig, setServerBuild } = await import('./config');

		setServerBuild(true);
		expect(getConfig().mail.smtpUrl).toBeNull();
		expect(() => setServerBuild(false)).toThrow('the configuration was read before the build was known');
	});
});

describe('loadConfig with bad values', () => {
	it.each([
		['ORIGIN', 'not a url', 'ORIGIN "not a url" is not a URL'],
		['ORIGIN', 'https://auth.example.com/app', 'ORIGIN "https://auth.example.com/app" must be an origin only'],
		['ORIGIN', 'https://auth.example.com?x=1', 'ORIGIN "https://auth.example.com?x=1" must be an origin only'],
		['ORIGIN', 'ftp://auth.example.com', 'ORIGIN "ftp://auth.example.com" must start with http:// or https://'],
		['DATABASE_URL', 'mssql://root@db.example.com/latchkey', 'DATABASE_URL "mssql://***@db.example.com/latchkey"'],
		['DATABASE_AUTO_MIGRATE', 'maybe', 'DATABASE_AUTO_MIGRATE="maybe" is not a switch'],
		['SMTP_URL', 'http://smtp.example.com', 'SMTP_URL must start with smtp:// or smtps://'],
		['BETTER_AUTH_SECRET', 'too-short', 'BETTER_AUTH_SECRET is 9 characters long; it needs at least 32']
	])('%s=%s is reported with its own message', (variable, value, message) => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, [variable]: value });

		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toContain(message);
		expect(error.problems[0]).toContain(variable);
		expect(error.message).toContain(error.problems[0]);
	});

	it('reports every problem together', () => {
		const error = configError({
			NODE_ENV: 'production',
			ORIGIN: 'ftp://auth.example.com',
			DATABASE_URL: 'mssql://db.example.com/latchkey',
			DATABASE_AUTO_MIGRATE: 'maybe',
			SMTP_URL: 'http://smtp.example.com',
			BETTER_AUTH_SECRET: 'short'
		});

		expect(error.name).toBe('ConfigError');
		expect(error.problems).toHaveLength(5);
		expect(error.problems.map((problem) => problem.split(/[ =]/)[0])).toEqual([
			'ORIGIN',
			'DATABASE_URL',
			'DATABASE_AUTO_MIGRATE',
			'SMTP_URL',
			'BETTER_AUTH_SECRET'
		]);
		for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
		expect(error.message.startsWith('Latchkey cannot start:\n')).toBe(true);
	});

	it('never shows a DATABASE_URL password', () => {
		const error = configError({
			BETTER_AUTH_SECRET: SECRET,
			DATABASE_URL: 'mssql://latchkey:Sup3r-S3cret-pw@db.example.com:1433/latchkey'
		});

		expect(error.message).toContain('DATABASE_URL');
		expect(error.message).not.toContain('Sup3r-S3cret-pw');
		expect(error.problems.join('\n')).not.toContain('Sup3r-S3cret-pw');
	});
});

describe('parseOrigin', () => {
	it('reduces a URL to its origin', () => {
		expect(parseOrigin('https://Auth.Example.com:443/', true)).toBe('https://auth.example.com');
		expect(parseOrigin('http://localhost:3000', true)).toBe('http://localhost:3000');
	});

	it('defaults only outside production', () => {
		expect(parseOrigin(undefined, false)).toBe('http://localhost:5173');
		expect(parseOrigin('', false)).toBe('http://localhost:5173');
		expect(() => parseOrigin(undefined, true)).toThrow(/^ORIGIN is required in production/);
		expect(() => parseOrigin('', true)).toThrow(/^ORIGIN is required in production/);
	});

	it('refuses a fragment', () => {
		expect(() => parseOrigin('https://auth.example.com/#top', false)).toThrow('must be an origin only');
	});

	it('accepts plain http in production only on this machine', () => {
		expect(parseOrigin('http://LOCALHOST:4173', true)).toBe('http://localhost:4173');
		expect(parseOrigin('http://127.1:3000', true)).toBe('http://127.0.0.1:3000');
		expect(parseOrigin('http://[0:0:0:0:0:0:0:1]:3000', true)).toBe('http://[::1]:3000');
		for (const origin of [
			'http://auth.example.com',
			'http://localhost.example.com',
			'http://128.0.0.1',
			'http://[::2]'
		]) {
			expect(() => parseOrigin(origin, true), origin).toThrow(`ORIGIN "${origin}" ${MUST_USE_HTTPS}`);
			expect(parseOrigin(origin, false), origin).toBe(new URL(origin).origin);
		}
	});
});

describe('isLoopbackHost', () => {
	it.each(['localhost', '127.0.0.1', '127.0.0.53', '127.255.255.255', '[::1]'])('%s is this machine', (host) => {
		expect(isLoopbackHost(host)).toBe(true);
	});

	it.each(['localhost.example.com', 'example.localhost', '128.0.0.1', '10.127.0.1', '[::2]', '[::ffff:7f00:1]', ''])(
		'%s is not',
		(host) => {
			expect(isLoopbackHost(host)).toBe(false);
		}
	);
});

describe('parseSwitch', () => {
	it.each(['1', 'true', 'on', 'yes', 'ON', ' True ', 'Yes'])('reads %j as on', (raw) => {
		expect(parseSwitch('FLAG', raw, false)).toBe(true);
	});

	it.each(['0', 'false', 'off', 'no', 'OFF', ' False ', 'No'])('reads %j as off', (raw) => {
		expect(parseSwitch('FLAG', raw, true)).toBe(false);
	});

	it('falls back when unset or empty', () => {
		expect(parseSwitch('FLAG', undefined, true)).toBe(true);
		expect(parseSwitch('FLAG', undefined, false)).toBe(false);
		expect(parseSwitch('FLAG', '', true)).toBe(true);
		expect(parseSwitch('FLAG', '', false)).toBe(false);
	});

	it('names the variable and the value it cannot read', () => {
		expect(() => parseSwitch('FLAG', 'enabled', true)).toThrow('FLAG="enabled" is not a switch; use on or off');
		expect(() => parseSwitch('FLAG', '2', true)).toThrow('FLAG="2" is not a switch');
	});
});

describe('loadConfig session settings', () => {
	const DAY = 24 * 60 * 60;

	it('reaches config.sessions.appPolicy from the preset', () => {
		const config = loadConfig({ BETTER_AUTH_SECRET: SECRET, SESSION_PRESET: 'mobile' }, dataDir);

		expect(config.sessions.appPolicy).toEqual({
			name: 'mobile',
			idleSeconds: 90 * DAY,
			refreshSeconds: 7 * DAY,
			absoluteSeconds: 365 * DAY
		});
		expect(config.sessions.appPolicy.idleSeconds).toBe(7776000);
	});

	it('reaches config.sessions.appPolicy from overrides', () => {
		const config = loadConfig(
			{
				BETTER_AUTH_SECRET: SECRET,
				SESSION_PRESET: 'high-security',
				SESSION_EXPIRES_IN: '2h',
				SESSION_ABSOLUTE_LIFETIME: 'off'
			},
			dataDir
		);

		expect(config.sessions).toEqual({
			appPolicy: { name: 'custom', idleSeconds: 2 * 60 * 60, refreshSeconds: 15 * 60, absoluteSeconds: null },
			rememberMeOffered: false
		});
	});

	it('refuses an unknown SESSION_PRESET, listing the presets', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, SESSION_PRESET: 'paranoid' });

		expect(error.problems).toEqual([
			'SESSION_PRESET="paranoid" is not a preset; choose one of standard, high-security, remember-me, mobile'
		]);
		expect(error.message).toContain('SESSION_PRESET');
	});

	it('refuses a duration it cannot read, naming the variable', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, SESSION_EXPIRES_IN: 'soon' });

		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toBe(
			'SESSION_EXPIRES_IN="soon" is not a duration; use seconds (3600) or a number with s, m, h or d (15m, 1h, 30d)'
		);
	});

	it('refuses a refresh no shorter than the expiry, naming both variables', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, SESSION_EXPIRES_IN: '12h' });

		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toContain('SESSION_UPDATE_AGE (86400s) must be shorter than SESSION_EXPIRES_IN (43200s)');
	});

	it.each([
		[{}, true],
		[{ SESSION_PRESET: 'standard' }, true],
		[{ SESSION_PRESET: 'mobile' }, true],
		[{ SESSION_PRESET: 'high-security' }, false],
		[{ SESSION_PRESET: 'HIGH-SECURITY' }, false],
		[{ SESSION_PRESET: 'high-security', REMEMBER_ME: 'on' }, true],
		[{ SESSION_PRESET: 'high-security', REMEMBER_ME: '' }, false],
		[{ SESSION_PRESET: 'standard', REMEMBER_ME: 'off' }, false],
		[{ REMEMBER_ME: 'yes' }, true]
	])('offers remember-me for %j: %s', (env, offered) => {
		const config = loadConfig({ BETTER_AUTH_SECRET: SECRET, ...env }, dataDir);
		expect(config.sessions.rememberMeOffered).toBe(offered);
	});

	it('refuses a REMEMBER_ME that is not a switch', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, REMEMBER_ME: 'maybe' });
		expect(error.problems).toEqual(['REMEMBER_ME="maybe" is not a switch; use on or off']);
	});

	it('reports session problems of different variables together', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, SESSION_EXPIRES_IN: 'soon', REMEMBER_ME: 'maybe' });

		expect(error.problems).toHaveLength(2);
		expect(error.problems[0]).toContain('SESSION_EXPIRES_IN="soon"');
		expect(error.problems[1]).toContain('REMEMBER_ME="maybe"');
	});
});

describe('loadConfig IDLE_WARNING', () => {
	let dataDir: string;
	beforeEach(() => {
		dataDir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
	});
	afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

	const configError = (env: Env) => {
		try {
			loadConfig(env, dataDir);
		} catch (error) {
			if (error instanceof ConfigError) return error;
			throw error;
		}
		throw new Error('expected a ConfigError');
	};

	it.each([
		[{}, 120],
		[{ IDLE_WARNING: '5m' }, 300],
		[{ IDLE_WARNING: '90' }, 90],
		[{ IDLE_WARNING: 'off' }, null],
		[{ IDLE_WARNING: 'OFF' }, null],
		[{ SESSION_EXPIRES_IN: '2m', SESSION_UPDATE_AGE: '1m', IDLE_WARNING: '1m', REMEMBER_ME: 'off' }, 60]
	])('reads %j as %s seconds', (env, seconds) => {
		expect(loadConfig({ BETTER_AUTH_SECRET: SECRET, ...env }, dataDir).idleWarningSeconds).toBe(seconds);
	});

	it('refuses a warning no shorter than the idle time, naming the value', () => {
		const error = configError({
			BETTER_AUTH_SECRET: SECRET,
			SESSION_EXPIRES_IN: '10m',
			SESSION_UPDATE_AGE: '1m',
			IDLE_WARNING: '10m'
		});
		expect(error.problems).toEqual([
			'IDLE_WARNING="10m" is 600s, not shorter than the session idle time (600s, from SESSION_EXPIRES_IN or the preset); use a shorter duration or off'
		]);
	});

	it('refuses the default when the idle time is shorter, and says the value is the default', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, SESSION_EXPIRES_IN: '90s', SESSION_UPDATE_AGE: '30s' });
		expect(error.problems).toHaveLength(1);
		expect(error.problems[0]).toContain('IDLE_WARNING (unset, so 2m) is 120s');
	});

	it('compares with remember-me too when the checkbox is offered', () => {
		const env = { BETTER_AUTH_SECRET: SECRET, SESSION_PRESET: 'mobile', IDLE_WARNING: '40d' };
		expect(configError(env).problems[0]).toContain('(2592000s');
		expect(loadConfig({ ...env, REMEMBER_ME: 'off' }, dataDir).idleWarningSeconds).toBe(40 * 24 * 3600);
	});

	it('refuses a value that is no duration', () => {
		expect(configError({ BETTER_AUTH_SECRET: SECRET, IDLE_WARNING: 'soon' }).problems).toEqual([
			'IDLE_WARNING="soon" is not a duration; use seconds (3600) or a number with s, m, h or d (15m, 1h, 30d)'
		]);
	});
});

describe('loadConfig cookie settings', () => {
	it('marks cookies secure for an https ORIGIN', () => {
		const config = loadConfig({ BETTER_AUTH_SECRET: SECRET, ORIGIN: 'https://auth.example.com' }, dataDir);
		expect(config.cookies).toEqual({ prefix: 'latchkey', domain: null, secure: true });
	});

	it('marks cookies secure in production even with an http ORIGIN on this machine', () => {
		for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000']) {
			expect(loadConfig({ ...PRODUCTION, ORIGIN: origin }, dataDir).cookies.secure, origin).toBe(true);
			expect(loadConfig({ ...PRODUCTION, ORIGIN: origin }, dataDir, 'production-build').cookies.secure, origin).toBe(
				true
			);
		}
	});

	it('leaves cookies not secure for http in development', () => {
		expect(loadConfig({ BETTER_AUTH_SECRET: SECRET }, dataDir).cookies.secure).toBe(false);
		expect(
			loadConfig({ BETTER_AUTH_SECRET: SECRET, ORIGIN: 'http://auth.example.com:8080' }, dataDir).cookies.secure
		).toBe(false);
	});

	it('uses COOKIE_PREFIX and COOKIE_DOMAIN', () => {
		const config = loadConfig(
			{
				BETTER_AUTH_SECRET: SECRET,
				ORIGIN: 'https://auth.example.com',
				COOKIE_PREFIX: 'myapp',
				COOKIE_DOMAIN: '.example.com'
			},
			dataDir
		);
		expect(config.cookies).toEqual({ prefix: 'myapp', domain: 'example.com', secure: true });
	});

	it('refuses a COOKIE_PREFIX that cannot be a cookie name', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, COOKIE_PREFIX: 'my app' });
		expect(error.problems).toEqual([
			'COOKIE_PREFIX="my app" must be 1-64 letters, digits, - or _ (and not start with __)'
		]);
	});

	it('refuses a COOKIE_DOMAIN that does not contain the ORIGIN host', () => {
		const error = configError({
			BETTER_AUTH_SECRET: SECRET,
			ORIGIN: 'https://auth.example.com',
			COOKIE_DOMAIN: 'other.com'
		});
		expect(error.problems).toEqual([
			'COOKIE_DOMAIN="other.com" must be the host of ORIGIN (auth.example.com) or a parent domain of it'
		]);

		expect(configError({ BETTER_AUTH_SECRET: SECRET, COOKIE_DOMAIN: 'other.com' }).problems[0]).toContain(
			'(localhost)'
		);
	});

	it('reports only the ORIGIN problem when ORIGIN itself is bad', () => {
		const error = configError({ BETTER_AUTH_SECRET: SECRET, ORIGIN: 'not a url', COOKIE_DOMAIN: 'other.com' });
		expect(error.problems).toEqual(['ORIGIN "not a url" is not a URL; use the form https://auth.example.com']);
	});

	it('reports cookie problems of different variables together', () => {
		const error = configError({
			BETTER_AUTH_SECRET: SECRET,
			ORIGIN: 'https://auth.example.com',
			COOKIE_PREFIX: 'my app',
			COOKIE_DOMAIN: 'other.com'
		});

		expect(error.problems).toHaveLength(2);
		expect(error.problems[0]).toContain('COOKIE_PREFIX="my app"');
		expect(error.problems[1]).toContain('COOKIE_DOMAIN="other.com"');
	});
});

describe('parseCookiePrefix', () => {
	it('defaults to latchkey', () => {
		expect(DEFAULT_COOKIE_PREFIX).toBe('latchkey');
		expect(parseCookiePrefix(undefined)).toBe('latchkey');
		expect(parseCookiePrefix('')).toBe('latchkey');
		expect(parseCookiePrefix('  ')).toBe('latchkey');
	});

	it.each([
		['myapp', 'myapp'],
		[' myapp ', 'myapp'],
		['My-App_2', 'My-App_2'],
		['_x', '_x'],
		['a'.repeat(64), 'a'.repeat(64)]
	])('accepts %j', (raw, prefix) => {
		expect(parseCookiePrefix(raw)).toBe(prefix);
	});

	it.each(['my app', 'a;b', 'a=b', 'a.b', '__Secure-x', '__Host-x', '__x', 'a'.repeat(65), 'é', 'caf\u00e9'])(
		'refuses %j, naming COOKIE_PREFIX',
		(raw) => {
			expect(() => parseCookiePrefix(raw)).toThrow(
				`COOKIE_PREFIX="${raw}" must be 1-64 letters, digits, - or _ (and not start with __)`
			);
		}
	);
});

describe('parseCookieDomain', () => {
	const ORIGIN = 'https://auth.example.com';

	it('is null when unset', () => {
		expect(parseCookieDomain(undefined, ORIGIN)).toBeNull();
		expect(parseCookieDomain('', ORIGIN)).toBeNull();
		expect(parseCookieDomain('  ', ORIGIN)).toBeNull();
	});

	it.each([
		['example.com', 'example.com'],
		['.example.com', 'example.com'],
		[' Example.COM ', 'example.com'],
		['auth.example.com', 'auth.example.com']
	])('accepts %j for https://auth.example.com', (raw, domain) => {
		expect(parseCookieDomain(raw, ORIGIN)).toBe(domain);
	});

	it('accepts the host of an origin with a port', () => {
		expect(parseCookieDomain('example.com', 'http://app.example.com:8080')).toBe('example.com');
	});

	it.each([
		'other.com',
		'ample.com',
		'exa mple.com',
		'sub.auth.example.com',
		'example.com.',
		'example.com;x',
		'..example.com'
	])('refuses %j, naming COOKIE_DOMAIN and the host', (raw) => {
		expect(() => parseCookieDomain(raw, ORIGIN)).toThrow(
			`COOKIE_DOMAIN="${raw}" must be the host of ORIGIN (auth.example.com) or a parent domain of it`
		);
	});
});
