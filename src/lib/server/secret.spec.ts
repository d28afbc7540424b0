import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveAuthSecret } from './secret';

let dataDir: string;

beforeEach(() => {
	dataDir = mkdtempSync(join(tmpdir(), 'latchkey-secret-'));
});

afterEach(() => {
	vi.restoreAllMocks();
	rmSync(dataDir, { recursive: true, force: true });
});

describe('resolveAuthSecret with a configured secret', () => {
	it('uses a secret of 32 characters or more as is', () => {
		const exactly32 = 'x'.repeat(32);
		const longer = 'Q2hhbmdlIG1lIGJlZm9yZSBwcm9kdWN0aW9uIQ==-and-more';

		expect(resolveAuthSecret(exactly32, true, dataDir)).toBe(exactly32);
		expect(resolveAuthSecret(longer, false, dataDir)).toBe(longer);
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});

	it.each([true, false])('refuses a secret shorter than 32 characters (production: %s)', (production) => {
		expect(() => resolveAuthSecret('y'.repeat(31), production, dataDir)).toThrow(
			/^BETTER_AUTH_SECRET is 31 characters long; it needs at least 32/
		);
		expect(() => resolveAuthSecret('short', production, dataDir)).toThrow('is 5 characters long');
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});
});

describe('resolveAuthSecret without a configured secret', () => {
	it.each([undefined, ''])('throws in production for %j', (raw) => {
		expect(() => resolveAuthSecret(raw, true, dataDir)).toThrow(/^BETTER_AUTH_SECRET is required in production/);
		expect(existsSync(join(dataDir, 'auth-secret'))).toBe(false);
	});

	it('generates a development secret once, keeps it in a private file, and announces it once', () => {
		const info = vi.spyOn(console, 'info').mockImplementation(() => {});
		const file = join(dataDir, 'auth-secret');

		const first = resolveAuthSecret(undefined, false, dataDir);

		expect(first.length).toBeGreaterThanOrEqual(32);
		expect(readFileSync(file, 'utf8').trim()).toBe(first);
		expect(statSync(file).mode & 0o777).toBe(0o600);
		expect(info).toHaveBeenCalledTimes(1);
		expect(info).toHaveBeenCalledWith(expect.stringContaining(file));

		const second = resolveAuthSecret('', false, dataDir);

		expect(second).toBe(first);
		expect(info).toHaveBeenCalledTimes(1);
	});

	it('creates the data directory when it does not exist yet', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		const nested = join(dataDir, 'nested', 'data');

		const secret = resolveAuthSecret(undefined, false, nested);

		expect(readFileSync(join(nested, 'auth-secret'), 'utf8').trim()).toBe(secret);
	});

	it('generates a different secret for a different data directory', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		const other = join(dataDir, 'other');

		expect(resolveAuthSecret(undefined, false, dataDir)).not.toBe(resolveAuthSecret(undefined, false, other));
	});

	it('uses a secret already on disk without announcing anything', () => {
		const info = vi.spyOn(console, 'info').mockImplementation(() => {});
		const existing = 'z'.repeat(43);
		writeFileSync(join(dataDir, 'auth-secret'), `${existing}\n`);

		expect(resolveAuthSecret(undefined, false, dataDir)).toBe(existing);
		expect(info).not.toHaveBeenCalled();
	});

	it('refuses to start from a blank auth-secret file, naming it, rather than return a blank key', () => {
		vi.spyOn(console, 'info').mockImplementation(() => {});
		writeFileSync(join(dataDir, 'auth-secret'), '\n');

		expect(() => resolveAuthSecret(undefined, false, dataDir)).toThrow(
			`${join(dataDir, 'auth-secret')} holds no usable secret (under 32 characters); delete it to generate a new one`
		);
	});
});
