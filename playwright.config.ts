import { defineConfig, devices } from '@playwright/test';
import { OUTBOX_APP, PRODUCTION_APP, SMTP_APP, SMTP_SINK, TEST_SECRET } from './tests/e2e/support/servers';

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

function latchkey(app: { port: number; origin: string; dataDir: string }, env: Record<string, string>) {
	return {
		// A fresh database per run: nothing from an earlier run can make a test pass.
		command: `rm -rf ${app.dataDir} && node build`,
		url: `${app.origin}/login`,
		reuseExistingServer: false,
		timeout: 60_000,
		stdout: 'pipe' as const,
		env: {
			PORT: String(app.port),
			ORIGIN: app.origin,
			DATABASE_URL: `file:${app.dataDir}/latchkey.db`,
			BETTER_AUTH_SECRET: TEST_SECRET,
			...env
		}
	};
}

const smtpMail = { SMTP_URL: `smtp://127.0.0.1:${SMTP_SINK.smtpPort}`, MAIL_FROM: 'Latchkey <no-reply@latchkey.test>' };

export default defineConfig({
	testDir: 'tests/e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	forbidOnly: !!process.env.CI,
	reporter: [['list']],
	use: { baseURL: SMTP_APP.origin, trace: 'retain-on-failure' },
	projects: [
		{ name: 'chromium', use: chromium },
		{ name: 'chromium-no-js', use: { ...chromium, javaScriptEnabled: false }, testMatch: /journey\.spec\.ts/ }
	],
	webServer: [
		{
			command: 'node_modules/.bin/tsx tests/e2e/support/smtp-sink.ts',
			url: `http://127.0.0.1:${SMTP_SINK.httpPort}/health`,
			reuseExistingServer: false,
			env: { SMTP_SINK_PORT: String(SMTP_SINK.smtpPort), SMTP_SINK_HTTP_PORT: String(SMTP_SINK.httpPort) }
		},
		latchkey(SMTP_APP, smtpMail),
		latchkey(OUTBOX_APP, {}),
		latchkey(PRODUCTION_APP, { NODE_ENV: 'production', ...smtpMail })
	]
});
