import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config';
import { describeTarget, parseDatabaseUrl, redactCredentials } from './target';

/** The message parseDatabaseUrl throws for this value (fails the test if it accepts it). */
function refusal(raw: string): string {
	try {
		parseDatabaseUrl(raw);
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error(`parseDatabaseUrl accepted ${JSON.stringify(raw)}`);
}

describe('parseDatabaseUrl', () => {
	it.each([undefined, '', '   '])('defaults to SQLite in ./data for %j', (raw) => {
		expect(parseDatabaseUrl(raw)).toEqual({ dialect: 'sqlite', file: './data/latchkey.db' });
	});

	it.each([
		['file:./x.db', './x.db'],
		['file:/abs/x.db', '/abs/x.db'],
		['file:///abs/x.db', '/abs/x.db'],
		['file:data/other.sqlite', 'data/other.sqlite'],
		['some/dir/app.db', 'some/dir/app.db'],
		['./app.db', './app.db'],
		['  file:./padded.db  ', './padded.db']
	])('reads %j as the SQLite file %j', (raw, file) => {
		expect(parseDatabaseUrl(raw)).toEqual({ dialect: 'sqlite', file });
	});

	it.each([
		'postgres://latchkey:pw@db.example.com:5432/latchkey',
		'postgresql://latchkey:pw@db.example.com/latchkey?sslmode=require',
		'postgres://localhost/latchkey'
	])('reads %j as PostgreSQL', (url) => {
		expect(parseDatabaseUrl(url)).toEqual({ dialect: 'postgres', url });
	});

	it.each(['mysql://latchkey:pw@db.example.com:3306/latchkey', 'mariadb://localhost/latchkey?ssl=true'])(
		'reads %j as MySQL or MariaDB',
		(url) => {
			expect(parseDatabaseUrl(url)).toEqual({ dialect: 'mysql', url });
		}
	);

	it('trims the PostgreSQL URL', () => {
		expect(parseDatabaseUrl(' postgres://localhost/latchkey\n')).toEqual({
			dialect: 'postgres',
			url: 'postgres://localhost/latchkey'
		});
	});

	it.each([
		['mssql://dbuser:Sup3r-S3cret-pw@db.example.com/latchkey', 'Sup3r-S3cret-pw'],
		['mysql://dbuser:Sup3r-S3cret-pw@db.example.com', 'Sup3r-S3cret-pw'],
		['http://x', null],
		['redis://:Redis-S3cret-pw@cache.example.com:6379', 'Redis-S3cret-pw'],
		['mongodb+srv://admin:Mongo-S3cret-pw@cluster0.example.net/app', 'Mongo-S3cret-pw'],
		['file:', null],
		['latchkey.sqlite3', null],
		['sqlite://latchkey.db', null]
	])('refuses %j, naming every accepted form', (raw, password) => {
		const message = refusal(raw);

		expect(message).toMatch(/^DATABASE_URL "/);
		expect(message).toContain('file:');
		expect(message).toContain('postgres://');
		expect(message).toContain('mysql://');
		if (password) {
			expect(message).not.toContain(password);
			expect(message).toContain('***@');
		}
	});

	it('does not show a password that contains an @', () => {
		// The URL parser splits credentials from the host at the last @, so all of "p@ss-word" is the password.
		const url = 'mssql://dbuser:p@ss-word@db.example.com/latchkey';
		expect(new URL(url).password).toBe('p%40ss-word');

		const message = refusal(url);

		expect(message).toContain('db.example.com/latchkey');
		expect(message).not.toContain('ss-word');
	});
});

describe('redactCredentials', () => {
	it.each([
		['mysql://user:secret@host/db', 'mysql://***@host/db'],
		['postgres://user@host:5432/db', 'postgres://***@host:5432/db'],
		['redis://:secret@cache:6379', 'redis://***@cache:6379'],
		['mysql://host/db', 'mysql://host/db'],
		['file:./x.db', 'file:./x.db']
	])('%j becomes %j', (url, redacted) => {
		expect(redactCredentials(url)).toBe(redacted);
	});
});

describe('describeTarget', () => {
	it.each([
		[{ dialect: 'sqlite', file: './data/latchkey.db' } as const, 'SQLite at ./data/latchkey.db'],
		[
			{ dialect: 'postgres', url: 'postgres://latchkey:pw@db.example.com/latchkey' } as const,
			'PostgreSQL at postgres://***@db.example.com/latchkey'
		],
		[
			{ dialect: 'mysql', url: 'mysql://latchkey:pw@db.example.com/latchkey' } as const,
			'MySQL at mysql://***@db.example.com/latchkey'
		],
		[
			{ dialect: 'mysql', url: 'mariadb://latchkey:pw@db.example.com/latchkey' } as const,
			'MariaDB at mariadb://***@db.example.com/latchkey'
		]
	])('names %j as %j, without credentials', (target, described) => {
		expect(describeTarget(target)).toBe(described);
	});
});

describe('loadConfig reads DATABASE_URL through parseDatabaseUrl', () => {
	const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

	function configFor(env: Record<string, string>) {
		const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-target-'));
		vi.spyOn(console, 'info').mockImplementation(() => {});
		try {
			return loadConfig({ BETTER_AUTH_SECRET: SECRET, ...env }, dataDir);
		} finally {
			vi.restoreAllMocks();
			rmSync(dataDir, { recursive: true, force: true });
		}
	}

	it('defaults to the SQLite file in ./data', () => {
		expect(configFor({}).database).toEqual({ dialect: 'sqlite', file: './data/latchkey.db' });
	});

	it('takes a PostgreSQL URL as it is', () => {
		expect(configFor({ DATABASE_URL: 'postgres://latchkey:pw@db.example.com:5432/latchkey' }).database).toEqual({
			dialect: 'postgres',
			url: 'postgres://latchkey:pw@db.example.com:5432/latchkey'
		});
	});
});
