import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from './support/fixtures';

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

	test('stops start-up with an http OIDC issuer that is not on this machine', () => {
		const { status, output } = startBuild(
			{ ...complete, OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' },
			dir
		);
		expect(status).toBe(1);
		expect(output).toContain('OIDC_ISSUER "http://id.example.com" must use https:// in production');
	});
});
