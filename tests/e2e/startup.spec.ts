import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import {
	HTTPS_APP,
	HTTPS_PROXY_PORT,
	KNOWN_DEVICE_COOKIE,
	SESSION_COOKIE,
	SMTP_APP,
	SMTP_SINK,
	TEST_SECRET
} from './support/servers';
import { signInAs } from './support/sign-in';
import { startTlsProxy } from './support/tls-proxy';

/**
 * Starts the production build with `env` (in `cwd`, the repository by default) and returns how
 * it ended; a misconfigured one must stop by itself.
 */
function startBuild(env: Record<string, string>, cwd?: string) {
	const result = spawnSync(process.execPath, [resolve('build')], {
		env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
		encoding: 'utf8',
		timeout: 20_000,
		cwd
	});
	return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('an unsupported DATABASE_URL stops start-up with the accepted forms', () => {
	const { status, output } = startBuild({ DATABASE_URL: 'mssql://root:hunter2@127.0.0.1/latchkey' });
	expect(status).toBe(1);
	expect(output).toContain('DATABASE_URL');
	expect(output).toContain('file:./data/latchkey.db');
	expect(output).toContain('postgres://');
	expect(output).toContain('mysql://');
	expect(output).not.toContain('hunter2');
	expect(output).not.toMatch(/\n\s+at /);
});

test('production without a secret stops start-up and says what is missing', () => {
	const { status, output } = startBuild({
		NODE_ENV: 'production',
		ORIGIN: 'https://auth.example.com',
		DATABASE_URL: 'file:.tmp/startup/latchkey.db',
		SMTP_URL: 'smtp://127.0.0.1:2525',
		MAIL_FROM: 'Latchkey <no-reply@example.com>'
	});
	expect(status).toBe(1);
	expect(output).toContain('BETTER_AUTH_SECRET is required in production');
	expect(output).not.toMatch(/\n\s+at /);
});

function without(env: Record<string, string>, ...names: string[]): Record<string, string> {
	return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

test.describe('a production build without NODE_ENV', () => {
	let dir: string;
	test.beforeEach(() => {
		// Its own working directory: a build that wrongly generated a development secret leaves it there.
		dir = mkdtempSync(join(tmpdir(), 'latchkey-startup-'));
	});
	test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

	const complete = {
		ORIGIN: 'https://auth.example.com',
		DATABASE_URL: 'file:latchkey.db',
		BETTER_AUTH_SECRET: 'startup-test-secret-0123456789abcdefghijkl',
		SMTP_URL: 'smtp://127.0.0.1:2525',
		MAIL_FROM: 'Latchkey <no-reply@example.com>'
	};

	for (const missing of ['SMTP_URL', 'BETTER_AUTH_SECRET'] as const) {
		test(`stops start-up without ${missing} and says it is missing`, () => {
			const { status, output } = startBuild(without(complete, missing), dir);
			expect(status).toBe(1);
			expect(output).toContain('Latchkey cannot start:');
			expect(output).toContain(`${missing} is required in production`);
			expect(output).not.toMatch(/\n\s+at /);
			expect(existsSync(join(dir, 'data', 'auth-secret'))).toBe(false);
		});
	}

	test('stops start-up without both, naming each, whatever NODE_ENV says', () => {
		const env = without(complete, 'SMTP_URL', 'BETTER_AUTH_SECRET');
		for (const nodeEnv of [undefined, 'development']) {
			const { status, output } = startBuild(nodeEnv ? { ...env, NODE_ENV: nodeEnv } : env, dir);
			expect(status, `NODE_ENV=${nodeEnv}`).toBe(1);
			expect(output).toContain('SMTP_URL is required in production');
			expect(output).toContain('BETTER_AUTH_SECRET is required in production');
		}
	});

	test('stops start-up without ORIGIN, whatever NODE_ENV says, before serving or migrating anything', () => {
		for (const nodeEnv of [undefined, 'development', 'test']) {
			const env = without(complete, 'ORIGIN');
			const { status, output } = startBuild(nodeEnv ? { ...env, NODE_ENV: nodeEnv } : env, dir);
			expect(status, `NODE_ENV=${nodeEnv}`).toBe(1);
			expect(output).toContain('Latchkey cannot start:\n  - ORIGIN is required in production');
			expect(output).not.toContain('latchkey: ready');
			expect(output).not.toMatch(/\n\s+at /);
			expect(existsSync(join(dir, 'latchkey.db')), 'database created').toBe(false);
		}
	});

	test('names every problem in the one message: ORIGIN, SMTP_URL and BETTER_AUTH_SECRET missing', () => {
		const { status, output } = startBuild(without(complete, 'ORIGIN', 'SMTP_URL', 'BETTER_AUTH_SECRET'), dir);
		expect(status).toBe(1);
		expect(output.match(/Latchkey cannot start/g)).toHaveLength(1);
		const problems = output.split('\n').filter((line) => line.startsWith('  - '));
		expect(problems.map((line) => line.slice(4).split(' ')[0])).toEqual(['ORIGIN', 'SMTP_URL', 'BETTER_AUTH_SECRET']);
		expect(existsSync(join(dir, 'data', 'auth-secret'))).toBe(false);
	});

	test('stops start-up with a plain-http ORIGIN off this machine', () => {
		const { status, output } = startBuild({ ...complete, ORIGIN: 'http://auth.example.com' }, dir);
		expect(status).toBe(1);
		expect(output).toContain('ORIGIN "http://auth.example.com" must use https:// in production');
		expect(output).not.toContain('latchkey: ready');
	});

	test('stops start-up with an http OIDC issuer that is not on this machine', () => {
		const { status, output } = startBuild(
			{ ...complete, OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' },
			dir
		);
		expect(status).toBe(1);
		expect(output).toContain('OIDC_ISSUER "http://id.example.com" must use https:// in production');
	});
});

/** The session and known-device cookies a browser holds, by name. */
async function cookiesOf(context: BrowserContext) {
	const cookies = await context.cookies();
	return {
		session: cookies.find((cookie) => cookie.name === SESSION_COOKIE),
		knownDevice: cookies.find((cookie) => cookie.name === KNOWN_DEVICE_COOKIE),
		names: cookies.map((cookie) => cookie.name)
	};
}

/** After a sign-in: both of Latchkey's cookies `__Host-` (so no Domain, Path=/), HttpOnly and Secure; every cookie Secure. */
async function expectSecureHostCookies(context: BrowserContext) {
	const { session, knownDevice, names } = await cookiesOf(context);
	for (const [what, cookie] of [
		['session cookie', session],
		['known-device cookie', knownDevice]
	] as const) {
		expect(cookie, `${what} among ${names.join(', ')}`).toMatchObject({ secure: true, httpOnly: true, path: '/' });
	}
	for (const cookie of await context.cookies()) expect(cookie, cookie.name).toMatchObject({ secure: true });
}

test.describe('a production build without NODE_ENV, serving', () => {
	test('on its http://localhost ORIGIN: both cookies are Secure and __Host-, and no HSTS over http', async ({
		page,
		context
	}) => {
		// SMTP_APP is a production build started without NODE_ENV (playwright.config.ts).
		const login = await page.goto(`${SMTP_APP.origin}/login`);
		expect(login!.headers()['strict-transport-security']).toBeUndefined();
		await signInAs(page, uniqueEmail('startup-http'));
		await expectSecureHostCookies(context);
	});

	test.describe('on an https ORIGIN behind a TLS-terminating proxy', () => {
		test.use({ baseURL: HTTPS_APP.origin, ignoreHTTPSErrors: true });
		let app: ChildProcess | undefined;
		let proxy: Server | undefined;

		test.beforeAll(async () => {
			rmSync(HTTPS_APP.dataDir, { recursive: true, force: true });
			mkdirSync(HTTPS_APP.dataDir, { recursive: true });
			// Kept for the leak scan, as playwright.config.ts keeps the other servers' output.
			const log = createWriteStream(join(HTTPS_APP.dataDir, 'server.log'));
			app = spawn(process.execPath, [resolve('build')], {
				env: {
					PATH: process.env.PATH ?? '',
					HOST: '127.0.0.1',
					PORT: String(HTTPS_APP.port),
					ORIGIN: HTTPS_APP.origin,
					DATABASE_URL: `file:${HTTPS_APP.dataDir}/latchkey.db`,
					BETTER_AUTH_SECRET: TEST_SECRET,
					SMTP_URL: `smtp://127.0.0.1:${SMTP_SINK.smtpPort}`,
					MAIL_FROM: 'Latchkey <no-reply@latchkey.test>'
				},
				stdio: ['ignore', 'pipe', 'pipe']
			});
			app.stdout!.pipe(log);
			app.stderr!.pipe(log);
			proxy = await startTlsProxy(HTTPS_PROXY_PORT, HTTPS_APP.port);
			await expect
				.poll(
					() =>
						fetch(`http://127.0.0.1:${HTTPS_APP.port}/healthz`).then(
							(r) => r.status,
							() => 0
						),
					{
						message: 'the https app serves /healthz',
						timeout: 30_000
					}
				)
				.toBe(200);
		});

		test.afterAll(async () => {
			proxy?.closeAllConnections();
			proxy?.close();
			if (app && app.exitCode === null) {
				const exited = new Promise((done) => app!.once('exit', done));
				app.kill('SIGTERM');
				await exited;
			}
		});

		// The browser speaks https to the proxy, which hands the build plain http, as a load balancer
		// would: what the build sends follows from its ORIGIN alone.
		test('sends HSTS over https, and both cookies are Secure and __Host-', async ({ page, context }) => {
			const login = await page.goto('/login');
			expect(login!.url()).toBe(`${HTTPS_APP.origin}/login`);
			expect(login!.headers()['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
			await signInAs(page, uniqueEmail('startup-https'));
			await expectSecureHostCookies(context);
		});
	});
});
