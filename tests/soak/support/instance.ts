import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export const SCALE_SECRET = 'scale-test-secret-0123456789abcdefghijkl';

export interface Instance {
	origin: string;
	/** Everything the process printed so far. */
	output: () => string;
	/** False once the process has exited, whatever the cause. */
	running: () => boolean;
	stop(): Promise<void>;
}

/** Starts the production build (`node build`) on `port` with `env`, and waits until it serves /healthz. */
export async function startInstance(port: number, env: Record<string, string>): Promise<Instance> {
	const origin = `http://localhost:${port}`;
	const child = spawn(process.execPath, ['build'], {
		env: {
			PATH: process.env.PATH ?? '',
			NODE_ENV: 'production',
			PORT: String(port),
			HOST: '127.0.0.1',
			ORIGIN: origin,
			BETTER_AUTH_SECRET: SCALE_SECRET,
			MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	await waitUntilServing(origin, child, () => output);
	return {
		origin,
		output: () => output,
		running: () => child.exitCode === null && child.signalCode === null,
		stop: () => stopProcess(child)
	};
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
