import { isIP } from 'node:net';
import { parseOAuthProviders, type OAuthProviders } from './auth/providers';
import {
	appPolicyFrom,
	durationOr,
	durationOrOff,
	parsePresetName,
	PRESETS,
	type SessionPolicy,
	type SessionSettings
} from './auth/policy';
import { parseDatabaseUrl, type DatabaseTarget } from './db/target';
import { DEFAULT_PER_ADDRESS_LIMITS, signInLimits, type SignInLimits } from './rate-limit-rules';
import { resolveAuthSecret } from './secret';

/** Environment variables as Node gives them; injectable so tests never touch process.env. */
export type Env = Record<string, string | undefined>;

export interface MailConfig {
	/** `null` means the development outbox at /dev/mailbox. */
	smtpUrl: string | null;
	from: string;
}

export interface AppConfig {
	/**
	 * A production build (or NODE_ENV=production anywhere): ORIGIN required and https (plain http
	 * only on this machine), MAIL_FROM required with SMTP_URL, every cookie Secure. See loadConfig.
	 */
	production: boolean;
	/** The public origin browsers use; Better Auth's baseURL and the cookie's Secure flag follow it. */
	origin: string;
	database: DatabaseTarget;
	autoMigrate: boolean;
	secret: string;
	mail: MailConfig;
	sessions: SessionSettings;
	/** MAX_SESSIONS_PER_USER and SESSION_LIMIT_ACTION; null when sessions are not limited. */
	sessionLimit: SessionLimit | null;
	/** Seconds since the last sign-in after which sensitive actions ask for the code again. */
	reauthWindowSeconds: number;
	/** End a session used from a new network, instead of only reporting it. */
	ipChangeRevokes: boolean;
	/** DEVICE_BOUND_SESSIONS and DEVICE_BOUND_CREDENTIAL_LIFETIME (auth/device-binding.ts). */
	deviceBound: DeviceBoundSettings;
	/** IDLE_WARNING in seconds: how long before a session's idle end its pages warn; null for never. */
	idleWarningSeconds: number | null;
	signInLimits: SignInLimits;
	cookies: CookieSettings;
	oauth: OAuthProviders;
	/** REDIS_URL: shared secondary storage and rate-limit counters for several instances. */
	redisUrl: string | null;
	pool: PoolSettings;
	purge: PurgeSettings;
}

export const SESSION_LIMIT_ACTIONS = ['end-oldest', 'refuse'] as const;
export type SessionLimitAction = (typeof SESSION_LIMIT_ACTIONS)[number];

export interface SessionLimit {
	/** The most sessions one user may have active at once. */
	max: number;
	/**
	 * What a sign-in over the limit does: end the user's least recently active sessions, or get
	 * no session itself (the user can then sign out everywhere by an emailed link).
	 */
	action: SessionLimitAction;
}

export interface DeviceBoundSettings {
	/** DEVICE_BOUND_SESSIONS: sign-ins invite DBSC browsers to bind their session to a device key. */
	enabled: boolean;
	/** DEVICE_BOUND_CREDENTIAL_LIFETIME in seconds: how long one bound credential cookie is accepted. */
	credentialLifetimeSeconds: number;
}

export interface PoolSettings {
	/** DATABASE_POOL_MAX: connections per instance, for a database server. */
	max: number;
	/** DATABASE_STATEMENT_TIMEOUT in milliseconds: a database server cancels a statement running longer. */
	statementTimeoutMs: number;
}

export interface PurgeSettings {
	/** PURGE_INTERVAL in seconds between purges of expired sessions; null turns the purge off. */
	intervalSeconds: number | null;
	/** PURGE_BATCH_SIZE: rows deleted per statement, so no purge holds a lock for long. */
	batchSize: number;
}

export const DATA_DIR = 'data';
const DEFAULT_REAUTH_WINDOW_SECONDS = 15 * 60;
const DEFAULT_IDLE_WARNING_SECONDS = 2 * 60;
const DEV_ORIGIN = 'http://localhost:5173';
const DEFAULT_MAIL_FROM = 'Latchkey <no-reply@localhost>';

/** Every problem found in the environment, reported together so an operator fixes them in one go. */
export class ConfigError extends Error {
	constructor(readonly problems: string[]) {
		super(`Latchkey cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
		this.name = 'ConfigError';
	}
}

export function isProduction(env: Env): boolean {
	return env.NODE_ENV === 'production';
}

/**
 * Which process reads the configuration:
 * - 'dev-server': `vite dev`, known from the build ($app/env's `dev`);
 * - 'production-build': the built server (`npm start`), whatever NODE_ENV says;
 * - 'tool': a process without a build (the operator CLI, the tests), which goes by NODE_ENV.
 */
export type Runtime = 'dev-server' | 'production-build' | 'tool';

/**
 * Whether the production rules apply: SMTP_URL and BETTER_AUTH_SECRET required (no development
 * outbox, no generated secret), OIDC_ISSUER over https unless on a loopback address, and
 * everything AppConfig.production covers (ORIGIN, MAIL_FROM, Secure cookies). A server decides
 * by its build, never by an environment variable an operator can forget; only a tool without a
 * build reads NODE_ENV.
 */
export function productionRules(runtime: Runtime, env: Env): boolean {
	return runtime === 'tool' ? isProduction(env) : runtime === 'production-build';
}

export function loadConfig(env: Env, dataDir = DATA_DIR, runtime: Runtime = 'tool'): AppConfig {
	const problems: string[] = [];
	const productionRulesApply = productionRules(runtime, env);
	// NODE_ENV=production also holds the development server to ORIGIN, MAIL_FROM and Secure
	// cookies; it keeps its outbox and generated secret all the same.
	const production = productionRulesApply || isProduction(env);
	const collect = <T>(read: () => T): T | undefined => {
		try {
			return read();
		} catch (error) {
			problems.push((error as Error).message);
			return undefined;
		}
	};

	const origin = collect(() => parseOrigin(env.ORIGIN, production));
	const database = collect(() => parseDatabaseUrl(env.DATABASE_URL));
	const autoMigrate = collect(() => parseSwitch('DATABASE_AUTO_MIGRATE', env.DATABASE_AUTO_MIGRATE, true));
	const mail = collect(() => parseMail(env, { smtpRequired: productionRulesApply, mailFromRequired: production }));
	const secret = collect(() => resolveAuthSecret(env.BETTER_AUTH_SECRET, productionRulesApply, dataDir));
	const preset = collect(() => parsePresetName(env.SESSION_PRESET));
	const appPolicy = preset ? collect(() => appPolicyFrom(env, preset)) : undefined;
	// A high-security deployment never hands out 30-day sessions unless the operator turns them on.
	const rememberMeOffered = collect(() => parseSwitch('REMEMBER_ME', env.REMEMBER_ME, preset !== 'high-security'));
	const reauthWindowSeconds = collect(() =>
		durationOr('REAUTH_WINDOW', env.REAUTH_WINDOW, DEFAULT_REAUTH_WINDOW_SECONDS)
	);
	const ipChangeRevokes = collect(() =>
		parseSwitch('IP_CHANGE_REVOKES', env.IP_CHANGE_REVOKES, preset === 'high-security')
	);
	const sessionLimit = collect(() => parseSessionLimit(env));
	const deviceBound = collect(() => parseDeviceBound(env));
	const idleWarningSeconds =
		appPolicy && rememberMeOffered !== undefined
			? collect(() => parseIdleWarning(env.IDLE_WARNING, shortestIdleSeconds(appPolicy, rememberMeOffered)))
			: undefined;
	const sendLimit = collect(() =>
		parseCount('OTP_SEND_LIMIT_PER_IP', env.OTP_SEND_LIMIT_PER_IP, DEFAULT_PER_ADDRESS_LIMITS.send)
	);
	const verifyLimit = collect(() =>
		parseCount('OTP_VERIFY_LIMIT_PER_IP', env.OTP_VERIFY_LIMIT_PER_IP, DEFAULT_PER_ADDRESS_LIMITS.verify)
	);
	const oauth = collect(() => parseOAuthProviders(env, productionRulesApply));
	const redisUrl = collect(() => parseRedisUrl(env.REDIS_URL));
	const poolMax = collect(() => parseCount('DATABASE_POOL_MAX', env.DATABASE_POOL_MAX, 10));
	const statementTimeout = collect(() => durationOr('DATABASE_STATEMENT_TIMEOUT', env.DATABASE_STATEMENT_TIMEOUT, 30));
	const purgeInterval = collect(() => durationOrOff('PURGE_INTERVAL', env.PURGE_INTERVAL, 3600));
	const purgeBatch = collect(() => parseCount('PURGE_BATCH_SIZE', env.PURGE_BATCH_SIZE, 1000));
	const cookiePrefix = collect(() => parseCookiePrefix(env.COOKIE_PREFIX));
	const cookieDomain = origin ? collect(() => parseCookieDomain(env.COOKIE_DOMAIN, origin)) : undefined;

	if (problems.length > 0) throw new ConfigError(problems);
	return {
		production,
		origin: origin!,
		database: database!,
		autoMigrate: autoMigrate!,
		secret: secret!,
		mail: mail!,
		sessions: { appPolicy: appPolicy!, rememberMeOffered: rememberMeOffered! },
		sessionLimit: sessionLimit!,
		reauthWindowSeconds: reauthWindowSeconds!,
		ipChangeRevokes: ipChangeRevokes!,
		deviceBound: deviceBound!,
		idleWarningSeconds: idleWarningSeconds!,
		signInLimits: signInLimits({ send: sendLimit!, verify: verifyLimit! }),
		oauth: oauth!,
		redisUrl: redisUrl!,
		pool: { max: poolMax!, statementTimeoutMs: statementTimeout! * 1000 },
		purge: { intervalSeconds: purgeInterval!, batchSize: purgeBatch! },
		cookies: { prefix: cookiePrefix!, domain: cookieDomain!, secure: production || origin!.startsWith('https:') }
	};
}

/**
 * Hosts whose traffic never leaves the machine (localhost, 127.0.0.0/8, [::1]), as the URL parser
 * writes them: the one place a production origin may be plain http, for a local run.
 */
export function isLoopbackHost(hostname: string): boolean {
	return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * The public origin. In production it is required and https: cookies are always Secure there,
 * and browsers drop Secure cookies from a plain-http origin except on this machine.
 */
export function parseOrigin(raw: string | undefined, production: boolean): string {
	if (!raw) {
		if (production) {
			throw new Error('ORIGIN is required in production: the public URL of the app, e.g. https://auth.example.com');
		}
		return DEV_ORIGIN;
	}
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new Error(`ORIGIN "${raw}" is not a URL; use the form https://auth.example.com`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new Error(`ORIGIN "${raw}" must start with http:// or https://`);
	}
	if (url.pathname !== '/' || url.search || url.hash) {
		throw new Error(`ORIGIN "${raw}" must be an origin only (scheme, host, port), without a path`);
	}
	if (production && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
		throw new Error(
			`ORIGIN "${raw}" must use https:// in production; plain http:// is accepted only on this machine (localhost, 127.0.0.0/8, [::1])`
		);
	}
	return url.origin;
}

/**
 * The shortest idle time a new sign-in can get: the app's policy, or remember-me's when the
 * checkbox is offered and its idle time is shorter.
 */
function shortestIdleSeconds(appPolicy: SessionPolicy, rememberMeOffered: boolean): number {
	return rememberMeOffered
		? Math.min(appPolicy.idleSeconds, PRESETS['remember-me'].idleSeconds)
		: appPolicy.idleSeconds;
}

/**
 * IDLE_WARNING: a duration, or `off`. A warning as long as the idle time would show as soon as
 * a session is used, so it must be shorter than the shortest idle time a sign-in can get.
 */
export function parseIdleWarning(raw: string | undefined, idleSeconds: number): number | null {
	const seconds = durationOrOff('IDLE_WARNING', raw, DEFAULT_IDLE_WARNING_SECONDS);
	if (seconds !== null && seconds >= idleSeconds) {
		const named = raw?.trim() ? `IDLE_WARNING="${raw}"` : 'IDLE_WARNING (unset, so 2m)';
		throw new Error(
			`${named} is ${seconds}s, not shorter than the session idle time (${idleSeconds}s, from SESSION_EXPIRES_IN or the preset); use a shorter duration or off`
		);
	}
	return seconds;
}

export function parseSwitch(name: string, raw: string | undefined, fallback: boolean): boolean {
	if (raw === undefined || raw === '') return fallback;
	const value = raw.trim().toLowerCase();
	if (['1', 'true', 'on', 'yes'].includes(value)) return true;
	if (['0', 'false', 'off', 'no'].includes(value)) return false;
	throw new Error(`${name}="${raw}" is not a switch; use on or off`);
}

export function parseCount(name: string, raw: string | undefined, fallback: number): number {
	if (raw === undefined || raw.trim() === '') return fallback;
	const value = Number(raw.trim());
	if (!Number.isSafeInteger(value) || value < 1)
		throw new Error(`${name}="${raw}" must be a whole number of at least 1`);
	return value;
}

/** MAX_SESSIONS_PER_USER (unset or `off`: no limit) and SESSION_LIMIT_ACTION (`end-oldest` or `refuse`). */
export function parseSessionLimit(env: Env): SessionLimit | null {
	const raw = env.MAX_SESSIONS_PER_USER?.trim();
	const action = env.SESSION_LIMIT_ACTION?.trim().toLowerCase() || 'end-oldest';
	if (!isSessionLimitAction(action))
		throw new Error(
			`SESSION_LIMIT_ACTION="${env.SESSION_LIMIT_ACTION}" is not an action; use ${SESSION_LIMIT_ACTIONS.join(' or ')}`
		);
	if (!raw || raw.toLowerCase() === 'off') return null;
	if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1)
		throw new Error(
			`MAX_SESSIONS_PER_USER="${env.MAX_SESSIONS_PER_USER}" must be a whole number of at least 1, or off`
		);
	return { max: Number(raw), action };
}

function isSessionLimitAction(value: string): value is SessionLimitAction {
	return (SESSION_LIMIT_ACTIONS as readonly string[]).includes(value);
}

const DEFAULT_CREDENTIAL_LIFETIME_SECONDS = 10 * 60;
const SHORTEST_CREDENTIAL_LIFETIME_SECONDS = 60;
const LONGEST_CREDENTIAL_LIFETIME_SECONDS = 60 * 60;

/**
 * DEVICE_BOUND_SESSIONS (`on` or `off`, off by default) and DEVICE_BOUND_CREDENTIAL_LIFETIME
 * (a duration, 10m by default). The lifetime is how long a copied session cookie stays useful
 * off its device: at least a minute, so a browser is not asked for a proof on every page, and at
 * most an hour, or the binding would protect little.
 */
export function parseDeviceBound(env: Env): DeviceBoundSettings {
	const raw = env.DEVICE_BOUND_SESSIONS?.trim().toLowerCase();
	if (raw && raw !== 'on' && raw !== 'off')
		throw new Error(`DEVICE_BOUND_SESSIONS="${env.DEVICE_BOUND_SESSIONS}" must be on or off`);
	const seconds = durationOr(
		'DEVICE_BOUND_CREDENTIAL_LIFETIME',
		env.DEVICE_BOUND_CREDENTIAL_LIFETIME,
		DEFAULT_CREDENTIAL_LIFETIME_SECONDS
	);
	if (seconds < SHORTEST_CREDENTIAL_LIFETIME_SECONDS || seconds > LONGEST_CREDENTIAL_LIFETIME_SECONDS)
		throw new Error(
			`DEVICE_BOUND_CREDENTIAL_LIFETIME="${env.DEVICE_BOUND_CREDENTIAL_LIFETIME}" is ${seconds}s; use a duration from 1m to 1h`
		);
	return { enabled: raw === 'on', credentialLifetimeSeconds: seconds };
}

function parseRedisUrl(raw: string | undefined): string | null {
	const url = raw?.trim();
	if (!url) return null;
	if (!/^rediss?:\/\/[^/]/.test(url)) {
		throw new Error('REDIS_URL must look like redis://host:6379 (or rediss:// for TLS)');
	}
	return url;
}

function parseMail(
	env: Env,
	{ smtpRequired, mailFromRequired }: { smtpRequired: boolean; mailFromRequired: boolean }
): MailConfig {
	const smtpUrl = env.SMTP_URL?.trim() || null;
	if (smtpUrl === null) {
		if (smtpRequired) {
			throw new Error(
				'SMTP_URL is required in production (the development outbox exists only in the development server, npm run dev)'
			);
		}
		return { smtpUrl, from: env.MAIL_FROM || DEFAULT_MAIL_FROM };
	}
	if (!/^smtps?:\/\//.test(smtpUrl)) {
		throw new Error('SMTP_URL must start with smtp:// or smtps://, e.g. smtps://user:password@smtp.example.com:465');
	}
	if (mailFromRequired && !env.MAIL_FROM) {
		throw new Error('MAIL_FROM is required in production when SMTP_URL is set, e.g. "Latchkey <no-reply@example.com>"');
	}
	return { smtpUrl, from: env.MAIL_FROM || DEFAULT_MAIL_FROM };
}

let current: AppConfig | undefined;
/** Until the server says otherwise, it is a production build: a forgotten call fails closed. */
let serverRuntime: Runtime = 'production-build';

/**
 * The SvelteKit server passes its build's `dev` flag (hooks.server.ts, from $app/env,
 * which the CLI under tsx cannot import) before anything reads the configuration.
 */
export function setServerBuild(dev: boolean): void {
	const runtime: Runtime = dev ? 'dev-server' : 'production-build';
	if (current && runtime !== serverRuntime) throw new Error('the configuration was read before the build was known');
	serverRuntime = runtime;
}

/** The server's configuration, read from process.env on first use (never at import time). */
export function getConfig(): AppConfig {
	return (current ??= loadConfig(process.env, DATA_DIR, serverRuntime));
}

/** How Latchkey's cookies are named and scoped, as the environment sets it (auth/cookies.ts names them). */
export interface CookieSettings {
	/** COOKIE_PREFIX: the part before `.session_token` (and the other cookies' names). */
	prefix: string;
	/** COOKIE_DOMAIN: set to share the cookie across subdomains; null for this host only. */
	domain: string | null;
	/**
	 * Secure attribute and a `__Host-` or `__Secure-` name prefix: on whenever the public origin
	 * is https, and always in a production build (or under NODE_ENV=production).
	 */
	secure: boolean;
}

export const DEFAULT_COOKIE_PREFIX = 'latchkey';

const COOKIE_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseCookiePrefix(raw: string | undefined): string {
	const prefix = raw?.trim() || DEFAULT_COOKIE_PREFIX;
	if (!COOKIE_PREFIX_PATTERN.test(prefix) || prefix.startsWith('__')) {
		throw new Error(`COOKIE_PREFIX="${raw}" must be 1-64 letters, digits, - or _ (and not start with __)`);
	}
	return prefix;
}

/**
 * COOKIE_DOMAIN must contain the origin's host, or browsers would drop every session cookie.
 * A bare top-level domain and IP hosts are refused too; other public suffixes (co.uk) are not
 * detected here, since that needs the Public Suffix List.
 */
export function parseCookieDomain(raw: string | undefined, origin: string): string | null {
	const domain = raw?.trim().replace(/^\./, '').toLowerCase();
	if (!domain) return null;
	const host = new URL(origin).hostname;
	if (isIP(host) || host.startsWith('[')) {
		throw new Error(`COOKIE_DOMAIN cannot be used when ORIGIN is an IP address (${host})`);
	}
	const parentOrSelf = host === domain || host.endsWith(`.${domain}`);
	if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain) || !parentOrSelf) {
		throw new Error(`COOKIE_DOMAIN="${raw}" must be the host of ORIGIN (${host}) or a parent domain of it`);
	}
	return domain;
}
