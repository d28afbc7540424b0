import { safeErrorMessage } from '../errors';
import { ConfigError, DATA_DIR, loadConfig, type Env } from '../config';
import { redactCredentials } from '../db/redact';
import { runCommand, type DatabaseCommand } from './commands';
import { EXIT, type ExitCode, type Output } from './output';
import { openStack, type CliStack } from './stack';

/** Reads the configuration, opens the app's stack, runs one command and closes everything it opened. */
export async function runDatabaseCommand(command: DatabaseCommand, env: Env, output: Output): Promise<ExitCode> {
	let stack: CliStack | undefined;
	try {
		// No build to ask: NODE_ENV=production decides, as for every tool. The CLI sends no mail and
		// serves no page; the secret salts its log lines' session hashes as the server's does.
		const config = loadConfig(env, DATA_DIR, 'tool');
		stack = await openStack(config, (line) => output.stderr(line));
		return await runCommand(command, { ...stack, output, purgeBatchSize: config.purge.batchSize });
	} catch (error) {
		// An operator needs the cause in one line, not a stack trace; ConfigError already lists every problem.
		output.stderr(error instanceof ConfigError ? error.message : `sessions: ${describeFailure(error)}`);
		return EXIT.failed;
	} finally {
		// A failure to close must not turn a finished command into a stack trace.
		await stack?.close().catch((error: unknown) => output.stderr(`sessions: closing: ${describeFailure(error)}`));
	}
}

/** Driver errors may quote a connection URL: never print its password. */
function describeFailure(error: unknown): string {
	return redactCredentials(safeErrorMessage(error));
}
