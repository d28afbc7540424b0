import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { safeErrorMessage } from '../../../src/lib/server/errors';
import { recordHarvest, recordInstance } from './recordings';
import { sessionTokensIn } from './session-tokens';

export const SCALE_SECRET = 'scale-test-secret-0123456789abcdefghijkl';

export interface Instance {
	origin: string;
	/** The server process, for signals (the bench's profiler). */
	pid: number;
	/** Everything the process printed so far. */
	output: () => string;
	/** False once the process has exited, whatever the cause. */
	running: () => boolean;
	/** CPU time the process (not its database) has used so far, all its threads, in microseconds. */
	cpuMicros: () => number;
	stop(): Promise<void>;
}

/**
 * Starts the production build (`node build`, or another build folder) on `port` with `env`,
 * and waits until it serves /healthz. Its output, its secret and, when it stops, the session
 * tokens in its database are recorded for the leak scan (recordings.ts).
 */
export async function startInstance(port: number, env: Record<string, string>, buildDir = 'build'): Promise<Instance> {
	const origin = `http://localhost:${port}`;
	const childEnv: Record<string, string> = {
		PATH: process.env.PATH ?? '',
		NODE_ENV: 'production',
		PORT: String(port),
		HOST: '127.0.0.1',
		ORIGIN: origin,
		BETTER_AUTH_SECRET: SCALE_SECRET,
		MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
		...env
	};
	const logFile = recordInstance(origin, childEnv.BETTER_AUTH_SECRET!);
	const child = spawn(process.execPath, [buildDir], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	const keep = (chunk: Buffer) => {
		output += chunk.toString();
		appendFileSync(logFile, chunk);
	};
	child.stdout!.on('data', keep);
	child.stderr!.on('data', keep);
	await waitUntilServing(origin, child, () => output);
	let harvested = false;
	return {
		origin,
		pid: child.pid!,
		output: () => output,
		running: () => child.exitCode === null && child.signalCode === null,
		cpuMicros: () => cpuMicrosOf(child.pid!),
		async stop() {
			await stopProcess(child);
			if (harvested) return;
			harvested = true;
			await harvestSessionTokens(childEnv.DATABASE_URL);
		}
	};
}

/** Before the test drops the database: the leak scan looks for these tokens too. */
async function harvestSessionTokens(databaseUrl: string | undefined): Promise<void> {
	const database = databaseUrl ?? '(default)';
	try {
		recordHarvest({ database, tokens: await sessionTokensIn(databaseUrl) });
	} catch (error) {
		recordHarvest({ database, error: safeErrorMessage(error) });
	}
}

/** /proc counts in clock ticks, 100 per second on Linux whatever the kernel's own tick rate. */
const MICROS_PER_CLOCK_TICK = 10_000;

/** NaN where there is no /proc (macOS): the bench then prints n/a. */
function cpuMicrosOf(pid: number): number {
	const path = `/proc/${pid}/stat`;
	if (!existsSync(path)) return Number.NaN;
	// The fields after the command name, which is in parentheses and may hold spaces.
	const stat = readFileSync(path, 'utf8');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	const [userTicks, systemTicks] = [Number(fields[11]), Number(fields[12])];
	return (userTicks + systemTicks) * MICROS_PER_CLOCK_TICK;
}

async function waitUntilServing(origin: string, child: ChildProcess, output: () => string): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`instance on ${origin} exited (${child.exitCode}):\n${output()}`);
		try {
			if ((await fetch(`${origin}/healthz`)).status === 200) return;
		} catch {
			// not listening yet
		}
		await sleep(100);
	}
	child.kill('SIGKILL');
	throw new Error(`instance on ${origin} did not become healthy:\n${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.kill('SIGTERM');
	await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}
