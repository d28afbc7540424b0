import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MIN_SECRET_LENGTH = 32;
export const DEV_SECRET_FILE = 'auth-secret';

/**
 * The key that signs session cookies. Production must bring its own; development gets
 * one generated once and kept on disk, so restarts do not sign everybody out.
 */
export function resolveAuthSecret(raw: string | undefined, production: boolean, dataDir: string): string {
	if (raw) {
		if (raw.length < MIN_SECRET_LENGTH) {
			throw new Error(
				`BETTER_AUTH_SECRET is ${raw.length} characters long; it needs at least ${MIN_SECRET_LENGTH} (try: openssl rand -base64 32)`
			);
		}
		return raw;
	}
	if (production) {
		throw new Error(
			`BETTER_AUTH_SECRET is required in production (at least ${MIN_SECRET_LENGTH} characters; try: openssl rand -base64 32)`
		);
	}
	return readOrCreateDevSecret(dataDir);
}

function readOrCreateDevSecret(dataDir: string): string {
	const file = join(dataDir, DEV_SECRET_FILE);
	try {
		return readFileSync(file, 'utf8').trim();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	const secret = randomBytes(32).toString('base64url');
	mkdirSync(dataDir, { recursive: true });
	try {
		// 'wx' refuses to overwrite a secret another process wrote meanwhile; that one wins.
		writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
		throw error;
	}
	console.info(`latchkey: generated a development secret in ${file} (set BETTER_AUTH_SECRET in production)`);
	return secret;
}
