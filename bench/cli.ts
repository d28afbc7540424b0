import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropAllScratchDatabases, type Dialect } from './scratch';

/** What both benches share: argument checks, progress, the table, the results file, Ctrl-C. */

export class UsageError extends Error {}

type OptionSpecs = Record<string, { type: 'string'; default: string } | { type: 'boolean'; default: boolean }>;
/** What parseArgs gives for such options: every one has a default, so every one is there. */
type OptionValues<O extends OptionSpecs> = { [K in keyof O]: O[K]['default'] extends boolean ? boolean : string };

/**
 * The command line read with node:util's parseArgs (strict, no positionals, plus --help), or
 * null when --help was given; a command line parseArgs refuses is a UsageError.
 */
export function parseBenchArgs<const O extends OptionSpecs>(argv: string[], options: O): OptionValues<O> | null {
	const withHelp: OptionSpecs = { ...options, help: { type: 'boolean', default: false } };
	let values;
	try {
		values = parseArgs({ args: argv, strict: true, allowPositionals: false, options: withHelp }).values;
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	return values.help ? null : (values as OptionValues<O>);
}

const ALL_DIALECTS: Dialect[] = ['sqlite', 'postgres', 'mysql'];

/** One engine, `all` of them, or `both` (SQLite and PostgreSQL, as before MySQL was an engine). */
export function parseDialects(raw: string): Dialect[] {
	if (raw === 'all') return ALL_DIALECTS;
	if (raw === 'both') return ['sqlite', 'postgres'];
	const one = ALL_DIALECTS.find((dialect) => dialect === raw);
	if (one) return [one];
	throw new UsageError(`--dialect "${raw}" is not one of ${ALL_DIALECTS.join(', ')}, all, both`);
}

export function parseNumber(name: string, raw: string, valid: (n: number) => boolean, expected: string): number {
	const value = raw.trim() === '' ? NaN : Number(raw);
	if (!Number.isFinite(value) || !valid(value)) throw new UsageError(`${name} "${raw}" is not ${expected}`);
	return value;
}

export const isWholeAbove = (min: number) => (n: number) => Number.isSafeInteger(n) && n > min;

/** Progress goes to stderr so stdout holds just the table and the verdict. */
export function progress(message: string): void {
	console.error(`bench: ${message}`);
}

/** Columns padded to their widest cell, each aligned as `align` says, written line by line with `write`. */
export function printTable(
	header: string[],
	rows: string[][],
	align: ('left' | 'right')[],
	write: (line: string) => void = console.log
): void {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
	const line = (cells: string[]) =>
		cells
			.map((cell, column) =>
				align[column] === 'right' ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)
			)
			.join(' | ')
			.trimEnd();
	write(line(header));
	write(widths.map((width) => '-'.repeat(width)).join('-|-'));
	for (const row of rows) write(line(row));
}

/** The report as JSON in bench/results/, with what it was measured on. */
export function writeResults(file: string, report: Record<string, unknown>): void {
	const path = fileURLToPath(new URL(`./results/${file}`, import.meta.url));
	mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
	const machine = { date: new Date().toISOString(), node: process.version, cores: availableParallelism() };
	writeFileSync(path, `${JSON.stringify({ ...machine, ...report }, null, '\t')}\n`);
	progress(`results written to ${path}`);
}

/**
 * Ctrl-C must not leave a scratch database or a server behind: the first one aborts `interrupted`
 * so the run stops between steps and its finally blocks clean up; a second one quits at once.
 */
export function stopOnSignals(interrupted: AbortController): void {
	for (const [signal, code] of [
		['SIGINT', 130],
		['SIGTERM', 143]
	] as const) {
		process.on(signal, () => {
			process.exitCode = code;
			if (!interrupted.signal.aborted) {
				progress(`${signal}: stopping; press Ctrl-C again to quit at once`);
				interrupted.abort(new Error(`interrupted by ${signal}`));
				return;
			}
			void dropAllScratchDatabases().finally(() => process.exit(code));
		});
	}
}

/** Runs `main`, turning a usage error into exit 2 with the usage text and a failure into exit 1. */
export async function runBench(
	usage: string,
	interrupted: AbortController,
	main: (argv: string[]) => Promise<number>
): Promise<void> {
	try {
		process.exitCode = await main(process.argv.slice(2));
	} catch (error) {
		if (error instanceof UsageError) {
			console.error(`bench: ${error.message}\n\n${usage}`);
			process.exitCode = 2;
		} else if (interrupted.signal.aborted) {
			progress('interrupted; scratch databases dropped');
		} else {
			console.error(`bench: failed: ${(error as Error).stack ?? error}`);
			process.exitCode = 1;
		}
	}
}
