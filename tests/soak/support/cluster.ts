import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A PostgreSQL cluster of the test's own (initdb in a temp dir, its own port), so a test may
 * stop and start it without touching the server every other test uses. PostgreSQL refuses to
 * run as root, so its commands run as the `postgres` system user.
 */
export interface Cluster {
	url: string;
	start(): void;
	stop(): void;
	/** As start() and stop(), without blocking the event loop: for a test whose load keeps running meanwhile. */
	startInBackground(): Promise<void>;
	stopInBackground(): Promise<void>;
	destroy(): void;
}

const BIN = `/usr/lib/postgresql/${execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n')[0]}/bin`;

const runuser = (command: string, args: string[]) => ['-u', 'postgres', '--', `${BIN}/${command}`, ...args];

function asPostgres(command: string, args: string[]): void {
	execFileSync('runuser', runuser(command, args), { stdio: 'pipe' });
}

async function asPostgresInBackground(command: string, args: string[]): Promise<void> {
	await promisify(execFile)('runuser', runuser(command, args));
}

export function createCluster(port: number): Cluster {
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-pg-'));
	chmodSync(dir, 0o700);
	const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
	const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
	chownSync(dir, uid, gid);
	const data = join(dir, 'data');
	asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
	const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
	const startArgs = ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'];
	const stopArgs = ['-D', data, '-m', 'fast', '-w', 'stop'];
	const cluster: Cluster = {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		start: () => asPostgres('pg_ctl', startArgs),
		stop: () => asPostgres('pg_ctl', stopArgs),
		startInBackground: () => asPostgresInBackground('pg_ctl', startArgs),
		stopInBackground: () => asPostgresInBackground('pg_ctl', stopArgs),
		destroy() {
			try {
				cluster.stop();
			} catch {
				// already stopped
			}
			rmSync(dir, { recursive: true, force: true });
		}
	};
	cluster.start();
	return cluster;
}
