import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { USAGE } from './args';
import { runCli } from './main';
import type { Output } from './output';

function capture(): Output & { out: string[]; err: string[] } {
	const out: string[] = [];
	const err: string[] = [];
	return { out, err, stdout: (text) => out.push(text), stderr: (text) => err.push(text) };
}

describe('runCli without a database', () => {
	let dir: string;
	let env: Record<string, string>;

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-unit-'));
		env = { DATABASE_URL: `file:${join(dir, 'never', 'latchkey.db')}` };
	});

	afterEach(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it('prints the usage text on stdout for help', async () => {
		const output = capture();
		expect(await runCli([], env, output)).toBe(0);
		expect(await runCli(['--help'], env, output)).toBe(0);
		expect(output.out).toEqual([USAGE, USAGE]);
		expect(output.err).toEqual([]);
	});

	it('prints a one-line error and the usage on stderr, with status 2, for bad arguments', async () => {
		const output = capture();
		expect(await runCli(['stats', '--verbose'], env, output)).toBe(2);
		expect(output.out).toEqual([]);
		expect(output.err.join('\n')).toBe(`sessions: unknown option --verbose for stats\n\n${USAGE}`);
	});

	it('opens no database for help or bad arguments', async () => {
		await runCli(['help'], env, capture());
		await runCli(['list', '--user'], env, capture());
		expect(existsSync(join(dir, 'never'))).toBe(false);
	});

	it('reports a configuration problem in plain words, with status 1, before opening the database', async () => {
		const output = capture();
		expect(await runCli(['stats'], { ...env, BETTER_AUTH_SECRET: 'short', ORIGIN: 'not a url' }, output)).toBe(1);
		expect(output.out).toEqual([]);
		expect(output.err).toHaveLength(1);
		expect(output.err[0]).toMatch(/^Latchkey cannot start:\n/);
		expect(output.err[0]).toContain('BETTER_AUTH_SECRET is 5 characters long');
		expect(output.err[0]).toContain('ORIGIN "not a url" is not a URL');
		expect(output.err[0]).not.toMatch(/^\s+at /m);
		expect(existsSync(join(dir, 'never'))).toBe(false);
	});
});
