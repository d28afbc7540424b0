import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
	if (!existsSync(file)) createDevSecret(file);
	const secret = readFileSync(file, 'utf8').trim();
	if (secret.length < MIN_SECRET_LENGTH) {
		throw new Error(
			`${file} holds no usable secret (under ${MIN_SECRET_LENGTH} characters); delete it to generate a new one`
		);
	}
	return secret;
}

/** Writes the file whole under a temporary name, then links it in: no reader ever sees it half-written. */
function createDevSecret(file: string): void {
	mkdirSync(dirname(file), { recursive: true });
	const draft = `${file}.${process.pid}.tmp`;
	writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
	try {
		linkSync(draft, file);
		console.info(`latchkey: generated a development secret in ${file} (set BETTER_AUTH_SECRET in production)`);
	} catch (error) {
		// Another process created it first; its secret wins.
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
	} finally {
		unlinkSync(draft);
	}
}
