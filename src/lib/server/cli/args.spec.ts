import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE, type Command } from './args';

function command(argv: string[]): Command {
	const parsed = parseArgs(argv);
	if (!parsed.ok) throw new Error(`expected a command from ${JSON.stringify(argv)}, got error: ${parsed.error}`);
	return parsed.command;
}

function error(argv: string[]): string {
	const parsed = parseArgs(argv);
	if (parsed.ok) throw new Error(`expected an error from ${JSON.stringify(argv)}, got ${JSON.stringify(parsed)}`);
	return parsed.error;
}

describe('parseArgs: help', () => {
	it.each([[[]], [['help']], [['--help']], [['-h']], [['list', '--help']], [['revoke', '--user', 'a@b.c', '-h']]])(
		'%j asks for the usage text',
		(argv) => {
			expect(command(argv)).toEqual({ name: 'help' });
		}
	);

	it('wins over arguments that would otherwise be errors', () => {
		expect(command(['nonsense', '--help'])).toEqual({ name: 'help' });
		expect(command(['list', '--bogus', '-h'])).toEqual({ name: 'help' });
	});

	it('names every command in the usage text', () => {
		for (const name of ['list --user', 'revoke --user', 'revoke --id', 'purge-expired', 'stats', 'help']) {
			expect(USAGE).toContain(name);
		}
	});
});

describe('parseArgs: list', () => {
	it('reads the email, as a separate value or after =', () => {
		expect(command(['list', '--user', 'ada@example.com'])).toEqual({
			name: 'list',
			email: 'ada@example.com',
			json: false
		});
		expect(command(['list', '--user=ada@example.com'])).toEqual({
			name: 'list',
			email: 'ada@example.com',
			json: false
		});
	});

	it('takes --json before or after --user', () => {
		const expected = { name: 'list', email: 'ada@example.com', json: true };
		expect(command(['list', '--json', '--user', 'ada@example.com'])).toEqual(expected);
		expect(command(['list', '--user', 'ada@example.com', '--json'])).toEqual(expected);
	});

	it('trims spaces around a value', () => {
		expect(command(['list', '--user', '  ada@example.com '])).toMatchObject({ email: 'ada@example.com' });
	});

	it('keeps an = inside the value', () => {
		expect(command(['list', '--user=odd=name@example.com'])).toMatchObject({ email: 'odd=name@example.com' });
	});

	it('needs --user', () => {
		expect(error(['list'])).toBe('list needs --user <email>');
		expect(error(['list', '--json'])).toBe('list needs --user <email>');
	});

	it.each([
		[['list', '--user']],
		[['list', '--user', '']],
		[['list', '--user', '   ']],
		[['list', '--user=']],
		[['list', '--user', '--json']]
	])('refuses a missing or empty email in %j', (argv) => {
		expect(error(argv)).toBe('--user needs a value');
	});

	it('refuses a value for --json', () => {
		expect(error(['list', '--user', 'a@b.c', '--json=yes'])).toBe('--json takes no value');
	});

	it('refuses --id, which only revoke takes', () => {
		expect(error(['list', '--id', 'abc'])).toBe('unknown option --id for list');
	});
});

describe('parseArgs: revoke', () => {
	it('ends a user’s sessions with --user', () => {
		expect(command(['revoke', '--user', 'ada@example.com'])).toEqual({
			name: 'revoke',
			target: { email: 'ada@example.com' }
		});
	});

	it('ends one session with --id', () => {
		expect(command(['revoke', '--id', 'sess_123'])).toEqual({ name: 'revoke', target: { sessionId: 'sess_123' } });
		expect(command(['revoke', '--id=sess_123'])).toEqual({ name: 'revoke', target: { sessionId: 'sess_123' } });
	});

	it('refuses both targets at once, in either order', () => {
		expect(error(['revoke', '--user', 'a@b.c', '--id', 'x'])).toBe('revoke takes --user or --id, not both');
		expect(error(['revoke', '--id', 'x', '--user', 'a@b.c'])).toBe('revoke takes --user or --id, not both');
	});

	it('refuses no target', () => {
		expect(error(['revoke'])).toBe('revoke needs --user <email> or --id <session-id>');
	});

	it.each([[['revoke', '--id']], [['revoke', '--id', '']], [['revoke', '--id=']], [['revoke', '--id', '--user']]])(
		'refuses a missing or empty id in %j',
		(argv) => {
			expect(error(argv)).toBe('--id needs a value');
		}
	);

	it('refuses --json, which revoke does not print', () => {
		expect(error(['revoke', '--user', 'a@b.c', '--json'])).toBe('unknown option --json for revoke');
	});
});

describe('parseArgs: purge-expired', () => {
	it('leaves the batch size to the configuration when --batch is absent', () => {
		expect(command(['purge-expired'])).toEqual({ name: 'purge-expired', batchSize: null });
	});

	it.each([
		['1', 1],
		['500', 500],
		['0100', 100]
	])('reads --batch %s', (raw, expected) => {
		expect(command(['purge-expired', '--batch', raw])).toEqual({ name: 'purge-expired', batchSize: expected });
		expect(command(['purge-expired', `--batch=${raw}`])).toEqual({ name: 'purge-expired', batchSize: expected });
	});

	it.each(['0', '-1', '1.5', '2.0', '1e3', '+5', '0x10', 'ten', '99999999999999999999'])(
		'refuses --batch %s',
		(raw) => {
			expect(error(['purge-expired', `--batch=${raw}`])).toBe(
				`--batch must be a whole number of at least 1, not "${raw}"`
			);
		}
	);

	it('refuses a missing batch size', () => {
		expect(error(['purge-expired', '--batch'])).toBe('--batch needs a value');
	});
});

describe('parseArgs: stats', () => {
	it('prints a table, or JSON with --json', () => {
		expect(command(['stats'])).toEqual({ name: 'stats', json: false });
		expect(command(['stats', '--json'])).toEqual({ name: 'stats', json: true });
	});
});

describe('parseArgs: mistakes', () => {
	it('refuses an unknown command', () => {
		expect(error(['lsit', '--user', 'a@b.c'])).toBe('unknown command "lsit"');
		expect(error(['LIST'])).toBe('unknown command "LIST"');
	});

	it('refuses inherited object keys as commands', () => {
		expect(error(['toString'])).toBe('unknown command "toString"');
		expect(error(['__proto__'])).toBe('unknown command "__proto__"');
	});

	it('refuses an option before the command', () => {
		expect(error(['--json', 'stats'])).toBe('expected a command before --json');
	});

	it('refuses an unknown option', () => {
		expect(error(['stats', '--verbose'])).toBe('unknown option --verbose for stats');
		expect(error(['list', '--email', 'a@b.c'])).toBe('unknown option --email for list');
	});

	it('refuses single-dash and stray arguments', () => {
		expect(error(['stats', '-j'])).toBe('unexpected argument "-j" for stats');
		expect(error(['stats', 'extra'])).toBe('unexpected argument "extra" for stats');
		expect(error(['list', '--user', 'a@b.c', 'b@c.d'])).toBe('unexpected argument "b@c.d" for list');
		expect(error(['stats', '--'])).toBe('unexpected argument "--" for stats');
	});

	it('refuses an option given twice', () => {
		expect(error(['list', '--user', 'a@b.c', '--user', 'b@c.d'])).toBe('--user given more than once');
		expect(error(['stats', '--json', '--json'])).toBe('--json given more than once');
	});

	it('gives every error on one line', () => {
		const mistakes = [['nope'], ['list'], ['revoke'], ['purge-expired', '--batch', 'x'], ['stats', '--x=1']];
		for (const argv of mistakes) expect(error(argv)).not.toContain('\n');
	});
});
