import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { Cluster } from './cluster';

/** What an outage test needs of a database server of its own. */
export type OwnServer = Pick<Cluster, 'url' | 'startInBackground' | 'stopInBackground' | 'destroy'>;

const WAIT_MS = 30_000;

/**
 * A MariaDB server of the test's own (mariadb-install-db in a temp dir, its own port), so a
 * test may stop and start it without touching the server every other test uses. It runs as
 * the `mysql` system user; root connects over TCP with an empty password, to the database
 * `latchkey`.
 */
export async function createMariaDbServer(port: number): Promise<OwnServer> {
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-mariadb-'));
	chownSync(
		dir,
		Number(execFileSync('id', ['-u', 'mysql']).toString()),
		Number(execFileSync('id', ['-g', 'mysql']).toString())
	);
	const data = join(dir, 'data');
	const pidFile = join(dir, 'pid');
	execFileSync(
		'mariadb-install-db',
		[
			'--no-defaults',
			`--datadir=${data}`,
			'--user=mysql',
			'--auth-root-authentication-method=normal',
			'--skip-test-db'
		],
		{ stdio: 'pipe' }
	);
	const serverArgs = [
		'--no-defaults',
		`--datadir=${data}`,
		`--port=${port}`,
		'--bind-address=127.0.0.1',
		`--socket=${join(dir, 'sock')}`,
		'--user=mysql',
		`--pid-file=${pidFile}`,
		`--log-error=${join(dir, 'log')}`
	];
	const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : null);
	const answers = () =>
		promisify(execFile)('mariadb-admin', ['-h127.0.0.1', `-P${port}`, '-uroot', 'ping']).then(
			() => true,
			() => false
		);
	async function until(done: () => Promise<boolean>, what: string): Promise<void> {
		for (const deadline = Date.now() + WAIT_MS; Date.now() < deadline; await sleep(100)) if (await done()) return;
		throw new Error(`the MariaDB server on port ${port} did not ${what} within ${WAIT_MS} ms`);
	}
	const server: OwnServer = {
		url: `mysql://root@127.0.0.1:${port}/latchkey`,
		async startInBackground() {
			spawn('mariadbd', serverArgs, { detached: true, stdio: 'ignore' }).unref();
			await until(answers, 'start');
		},
		async stopInBackground() {
			const running = pid();
			if (running !== null) process.kill(running, 'SIGTERM');
			await until(async () => pid() === null && !(await answers()), 'stop');
		},
		destroy() {
			const running = pid();
			if (running !== null) process.kill(running, 'SIGTERM');
			for (let waited = 0; waited < WAIT_MS && pid() !== null; waited += 100) execFileSync('sleep', ['0.1']);
			rmSync(dir, { recursive: true, force: true });
		}
	};
	await server.startInBackground();
	const admin = await mysql.createConnection({ uri: `mysql://root@127.0.0.1:${port}/` });
	await admin.query('CREATE DATABASE latchkey');
	await admin.end();
	return server;
}
