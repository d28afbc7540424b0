/**
 * Argument parsing for `npm run sessions`: a pure function from argv to a typed command or a
 * one-line error. Nothing here touches the environment or the database, so a typo never
 * opens a connection and every rule is unit-tested (args.spec.ts).
 */

export type Command =
	| { name: 'help' }
	| { name: 'list'; email: string; json: boolean }
	| { name: 'revoke'; target: RevokeTarget }
	| { name: 'purge-expired'; batchSize: number | null }
	| { name: 'stats'; json: boolean };

/** Exactly one of a user's email or a session id: the parser refuses both and neither. */
export type RevokeTarget = { email: string } | { sessionId: string };

export type ParsedArgs = { ok: true; command: Command } | { ok: false; error: string };

export const USAGE = `Usage: npm run sessions -- <command> [options]

Commands:
  list --user <email> [--json]   List the user's active sessions: id, device, IP, created,
                                 last active, expires and policy (--json: a JSON array)
  revoke --user <email>          End every session of the user
  revoke --id <session-id>       End one session
  purge-expired [--batch <n>]    Delete expired sessions, n per statement (default PURGE_BATCH_SIZE),
                                 and expired sign-in codes and rate-limit windows
  stats [--json]                 Count active sessions by policy
  help                           Show this text

Options take a value as --user a@example.com or --user=a@example.com.
The environment is the app's own: DATABASE_URL, BETTER_AUTH_SECRET, REDIS_URL, ...
Exit status: 0 done, 1 not found or failed, 2 bad arguments.`;

type FlagKind = 'value' | 'switch';

/** The options each command accepts; anything else is an error, so a typo never does something else. */
const FLAGS = {
	list: { user: 'value', json: 'switch' },
	revoke: { user: 'value', id: 'value' },
	'purge-expired': { batch: 'value' },
	stats: { json: 'switch' }
} as const satisfies Record<string, Record<string, FlagKind>>;

type CommandName = keyof typeof FLAGS;
type Flags = Map<string, string | true>;

const HELP_WORDS = new Set(['help', '--help', '-h']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
	const [first, ...rest] = argv;
	// Asking for help anywhere wins over everything else, as in most command-line tools.
	if (first === undefined || argv.some((arg) => HELP_WORDS.has(arg))) return { ok: true, command: { name: 'help' } };
	if (!isCommandName(first)) {
		return fail(first.startsWith('-') ? `expected a command before ${first}` : `unknown command "${first}"`);
	}
	const flags = readFlags(first, rest);
	if (typeof flags === 'string') return fail(flags);
	return buildCommand(first, flags);
}

function isCommandName(word: string): word is CommandName {
	return Object.hasOwn(FLAGS, word);
}

/** `--name value`, `--name=value` and `--switch`; returns an error message on the first problem. */
function readFlags(command: CommandName, args: string[]): Flags | string {
	const accepted: Record<string, FlagKind> = FLAGS[command];
	const flags: Flags = new Map();
	for (let i = 0; i < args.length; i++) {
		const arg = args[i]!;
		if (!arg.startsWith('--') || arg === '--') return `unexpected argument "${arg}" for ${command}`;
		const [name, inline] = splitFlag(arg.slice(2));
		const kind = accepted[name];
		if (!kind) return `unknown option --${name} for ${command}`;
		if (flags.has(name)) return `--${name} given more than once`;
		if (kind === 'switch') {
			if (inline !== undefined) return `--${name} takes no value`;
			flags.set(name, true);
			continue;
		}
		// A following option is not a value: `--user --json` means the email was forgotten.
		const next = args[i + 1];
		const value = inline ?? (next !== undefined && !next.startsWith('--') ? args[++i] : undefined);
		if (value === undefined || value.trim() === '') return `--${name} needs a value`;
		flags.set(name, value.trim());
	}
	return flags;
}

function splitFlag(body: string): [string, string | undefined] {
	const equals = body.indexOf('=');
	return equals === -1 ? [body, undefined] : [body.slice(0, equals), body.slice(equals + 1)];
}

function buildCommand(name: CommandName, flags: Flags): ParsedArgs {
	const value = (flag: string) => flags.get(flag) as string | undefined;
	switch (name) {
		case 'list': {
			const email = value('user');
			if (!email) return fail('list needs --user <email>');
			return { ok: true, command: { name, email, json: flags.has('json') } };
		}
		case 'revoke':
			return revokeCommand(value('user'), value('id'));
		case 'purge-expired': {
			const batch = value('batch');
			if (batch === undefined) return { ok: true, command: { name, batchSize: null } };
			const batchSize = positiveInteger(batch);
			if (batchSize === null) return fail(`--batch must be a whole number of at least 1, not "${batch}"`);
			return { ok: true, command: { name, batchSize } };
		}
		case 'stats':
			return { ok: true, command: { name, json: flags.has('json') } };
	}
}

function revokeCommand(email: string | undefined, sessionId: string | undefined): ParsedArgs {
	// One target per run: an operator who typed both meant one of them, and guessing which is unsafe.
	if (email !== undefined && sessionId !== undefined) return fail('revoke takes --user or --id, not both');
	if (email !== undefined) return { ok: true, command: { name: 'revoke', target: { email } } };
	if (sessionId !== undefined) return { ok: true, command: { name: 'revoke', target: { sessionId } } };
	return fail('revoke needs --user <email> or --id <session-id>');
}

/** Digits only: `1e3`, `+5`, `2.0` and `0x10` are refused rather than read as something unexpected. */
function positiveInteger(raw: string): number | null {
	if (!/^\d+$/.test(raw)) return null;
	const value = Number(raw);
	return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

function fail(error: string): ParsedArgs {
	return { ok: false, error };
}
