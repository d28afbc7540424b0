import { defineConfig, devices } from '@playwright/test';
import {
	ATTACK_APP,
	LIMIT_APP,
	IDLE_APP,
	OIDC_PROVIDER,
	OUTBOX_APP,
	PRODUCTION_APP,
	PROXIED_APP,
	REFUSE_APP,
	SMTP_APP,
	SMTP_SINK,
	STRICT_APP,
	TEST_SECRET,
	type TestServer
} from './tests/e2e/support/servers';

// The system Chromium (apt package `chromium`); Playwright's own browser download is not used.
const chromium = {
	...devices['Desktop Chrome'],
	launchOptions: {
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync'
		]
	}
};

// Most tests sign in from 127.0.0.1: the per-network limits would otherwise stop the suite.
const RAISED_NETWORK_LIMITS = { OTP_SEND_LIMIT_PER_IP: '1000', OTP_VERIFY_LIMIT_PER_IP: '1000' };

/** The production build (`node build`), unless `server` says otherwise. */
function latchkey(
	app: TestServer,
	env: Record<string, string>,
	server = 'node build',
	networkLimits: Record<string, string> = RAISED_NETWORK_LIMITS
) {
	return {
		// A fresh database per run (nothing from an earlier run can make a test pass), and the
		// server's output kept for the leak scan.
		command: `rm -rf ${app.dataDir} && mkdir -p ${app.dataDir} && ${server} 2>&1 | tee ${app.dataDir}/server.log`,
		// Ready once migrated; /healthz answers also without the client-address header, which
		// ADDRESS_HEADER requires of every other request.
		url: `http://127.0.0.1:${app.port}/healthz`,
		reuseExistingServer: false,
		timeout: 60_000,
		stdout: 'pipe' as const,
		env: {
			PORT: String(app.port),
			ORIGIN: app.origin,
			DATABASE_URL: `file:${app.dataDir}/latchkey.db`,
			BETTER_AUTH_SECRET: TEST_SECRET,
			...networkLimits,
			...env
		}
	};
}

const oidc = {
	OIDC_ISSUER: OIDC_PROVIDER.issuer,
	OIDC_CLIENT_ID: 'latchkey-e2e',
	OIDC_CLIENT_SECRET: 'latchkey-e2e-secret',
	OIDC_NAME: OIDC_PROVIDER.name
};

const smtpMail = { SMTP_URL: `smtp://127.0.0.1:${SMTP_SINK.smtpPort}`, MAIL_FROM: 'Latchkey <no-reply@latchkey.test>' };

export default defineConfig({
	testDir: 'tests/e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	forbidOnly: !!process.env.CI,
	reporter: [['list']],
	use: { baseURL: SMTP_APP.origin, trace: 'retain-on-failure' },
	globalSetup: './tests/e2e/support/global-setup.ts',
	projects: [
		{ name: 'chromium', use: chromium, testIgnore: /leak-scan/ },
		{
			name: 'chromium-no-js',
			use: { ...chromium, javaScriptEnabled: false },
			testMatch:
				/(journey|devices|reauth|hostile-email|session-limit|session-limit-refuse|email-change|ended-reason)\.spec\.ts/
		},
		{ name: 'leak-scan', testMatch: /leak-scan\.spec\.ts/, dependencies: ['chromium', 'chromium-no-js'] }
	],
	webServer: [
		{
			command: 'node_modules/.bin/tsx tests/e2e/support/smtp-sink.ts',
			url: `http://127.0.0.1:${SMTP_SINK.httpPort}/health`,
			reuseExistingServer: false,
			env: { SMTP_SINK_PORT: String(SMTP_SINK.smtpPort), SMTP_SINK_HTTP_PORT: String(SMTP_SINK.httpPort) }
		},
		{
			command: 'node_modules/.bin/tsx tests/e2e/support/oidc-provider.ts',
			url: `http://127.0.0.1:${OIDC_PROVIDER.controlPort}/health`,
			reuseExistingServer: false,
			env: { OIDC_PORT: String(OIDC_PROVIDER.port), OIDC_CONTROL_PORT: String(OIDC_PROVIDER.controlPort) }
		},
		latchkey(SMTP_APP, { ...smtpMail, ...oidc }),
		// No SMTP: the development server's outbox. A production build would refuse to start.
		latchkey(OUTBOX_APP, {}, `node_modules/.bin/vite dev --port ${OUTBOX_APP.port} --strictPort --host 127.0.0.1`),
		// Its OIDC issuer is a closed port: the provider is down.
		latchkey(PRODUCTION_APP, {
			NODE_ENV: 'production',
			...smtpMail,
			...oidc,
			OIDC_ISSUER: 'http://127.0.0.1:4199',
			OIDC_NAME: 'Down ID'
		}),
		latchkey(PROXIED_APP, { ...smtpMail, ADDRESS_HEADER: 'x-forwarded-for', XFF_DEPTH: '1' }),
		latchkey(STRICT_APP, {
			...smtpMail,
			ADDRESS_HEADER: 'x-forwarded-for',
			XFF_DEPTH: '1',
			SESSION_PRESET: 'high-security'
		}),
		// The published per-network limits: the attack's stranger meets them as a real one would.
		latchkey(ATTACK_APP, { ...smtpMail, ADDRESS_HEADER: 'x-forwarded-for', XFF_DEPTH: '1' }, 'node build', {}),
		// Also device-bound sessions: its sign-ins invite registration (device-bound.spec.ts).
		latchkey(LIMIT_APP, { ...smtpMail, ...oidc, MAX_SESSIONS_PER_USER: '2', DEVICE_BOUND_SESSIONS: 'on' }),
		latchkey(REFUSE_APP, { ...smtpMail, ...oidc, MAX_SESSIONS_PER_USER: '2', SESSION_LIMIT_ACTION: 'refuse' }),
		// Sessions idle out in minutes, so that the idle warning's tests reach its times.
		latchkey(IDLE_APP, {
			...smtpMail,
			SESSION_EXPIRES_IN: '2m',
			SESSION_UPDATE_AGE: '1m',
			IDLE_WARNING: '1m',
			REMEMBER_ME: 'off'
		})
	]
});
