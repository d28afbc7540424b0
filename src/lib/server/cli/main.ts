import type { Env } from '../config';
import { parseArgs, USAGE } from './args';
import { EXIT, processOutput, type ExitCode, type Output } from './output';

/**
 * `npm run sessions -- <command>`: parses first, so help and argument errors never read the
 * configuration or open the database. The drivers, Redis and the configuration are
 * imported only for a command that needs them: help answers in well under a second.
 */
export async function runCli(argv: readonly string[], env: Env, output: Output = processOutput): Promise<ExitCode> {
	const parsed = parseArgs(argv);
	if (!parsed.ok) {
		output.stderr(`sessions: ${parsed.error}\n\n${USAGE}`);
		return EXIT.usage;
	}
	if (parsed.command.name === 'help') {
		output.stdout(USAGE);
		return EXIT.ok;
	}
	const { runDatabaseCommand } = await import('./run');
	return runDatabaseCommand(parsed.command, env, output);
}
