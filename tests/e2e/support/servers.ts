/** The servers the browser tests run against; playwright.config.ts starts them. */
export const SMTP_SINK = { smtpPort: 2525, httpPort: 2526 } as const;

export const TEST_SECRET = 'e2e-test-secret-0123456789abcdefghijkl';

/**
 * The cookies a production build issues without COOKIE_DOMAIN, with NODE_ENV or without:
 * Secure and `__Host-` on every origin, http://localhost included (Chromium keeps them there).
 */
export const SESSION_COOKIE = '__Host-latchkey.session_token';
export const KNOWN_DEVICE_COOKIE = '__Host-latchkey.known_device';

export interface TestServer {
	port: number;
	origin: string;
	/** Holds the server's SQLite database and its log (server.log), fresh for every run. */
	dataDir: string;
}

function server(port: number, name: string): TestServer {
	return { port, origin: `http://localhost:${port}`, dataDir: `.tmp/e2e-${name}` };
}

/** Latchkey with mail over SMTP to the sink: the main journey. */
export const SMTP_APP = server(4173, 'smtp');
/**
 * The development server (`vite dev`) without SMTP: codes land in the outbox at /dev/mailbox,
 * which no production build has.
 */
export const OUTBOX_APP = server(4174, 'outbox');
/** Latchkey with NODE_ENV=production. The others are production builds without NODE_ENV. */
export const PRODUCTION_APP = server(4175, 'production');
/** Behind a "proxy": the client address comes from X-Forwarded-For, which the tests set. */
export const PROXIED_APP = server(4176, 'proxied');
/** The same under the high-security preset: a session used from a new network ends. */
export const STRICT_APP = server(4177, 'strict');

/**
 * A production build without NODE_ENV whose ORIGIN is https: it serves plain http on `port`
 * behind a TLS-terminating proxy on 4179 (tls-proxy.ts). startup.spec.ts starts both itself.
 */
export const HTTPS_APP: TestServer = { port: 4178, origin: 'https://127.0.0.1:4179', dataDir: '.tmp/e2e-https' };
export const HTTPS_PROXY_PORT = 4179;

/**
 * Behind the same "proxy", with the published per-network limits: a stranger attacking an
 * address from networks of its own meets every limit a real one would.
 */
export const ATTACK_APP = server(4180, 'attack');

/**
 * MAX_SESSIONS_PER_USER=2 (end-oldest): a third sign-in, by code or through the OpenID Connect
 * provider, ends the least recently active session. DEVICE_BOUND_SESSIONS=on: its sign-ins
 * invite DBSC registration.
 */
export const LIMIT_APP = server(4182, 'limit');

/**
 * MAX_SESSIONS_PER_USER=2 with SESSION_LIMIT_ACTION=refuse: a third sign-in gets no session, and
 * the way out is an emailed link that signs out every device.
 */
export const REFUSE_APP = server(4186, 'refuse');

/**
 * Sessions idle out after two minutes and warn one minute before: the idle warning's tests move
 * the browser's clock, and the stored expiry, rather than wait.
 */
export const IDLE_APP = server(4184, 'idle');

export const ALL_APPS = [
	SMTP_APP,
	OUTBOX_APP,
	PRODUCTION_APP,
	PROXIED_APP,
	STRICT_APP,
	HTTPS_APP,
	ATTACK_APP,
	LIMIT_APP,
	REFUSE_APP,
	IDLE_APP
];

/**
 * The OpenID Connect provider (tests/e2e/support/oidc-provider.ts) the SMTP app signs in with.
 * Not 4190: the Fetch standard blocks that port (sieve), and Node's fetch with it.
 */
export const OIDC_PROVIDER = {
	port: 4192,
	controlPort: 4193,
	issuer: 'http://127.0.0.1:4192',
	name: 'Test ID'
} as const;
