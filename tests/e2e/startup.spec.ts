import { spawnSync } from 'node:child_process';
import { expect, test } from './support/fixtures';

/** Starts the production build with `env` and returns how it ended; a misconfigured one must stop by itself. */
function startBuild(env: Record<string, string>) {
	const result = spawnSync(process.execPath, ['build'], {
		env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
		encoding: 'utf8',
		timeout: 20_000
	});
	return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('an unsupported DATABASE_URL stops start-up with the accepted forms', () => {
	const { status, output } = startBuild({ DATABASE_URL: 'mysql://root:hunter2@127.0.0.1/latchkey' });
	expect(status).toBe(1);
	expect(output).toContain('DATABASE_URL');
	expect(output).toContain('file:./data/latchkey.db');
	expect(output).toContain('postgres://');
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
