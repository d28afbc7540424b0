import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import Sqlite from 'better-sqlite3';

/** Something that makes a SQLite database file unusable for writes until released. */
export interface SqliteFault {
	name: string;
	/** How the app's log line must name the cause (errors.ts databaseFault). */
	cause: RegExp;
	/** Puts the fault on the database at `file`; returns what lifts it. */
	apply(file: string): () => void;
}

/**
 * Another connection (another process in production: the CLI, a backup, an sqlite3 shell)
 * holds BEGIN EXCLUSIVE. Under WAL readers go on; a writer waits out its lock wait, then
 * gets SQLITE_BUSY.
 */
export const lockedByAnotherConnection: SqliteFault = {
	name: 'locked by another connection (BEGIN EXCLUSIVE held past the lock wait)',
	cause: /the SQLite database is locked by another connection \(SQLITE_BUSY/,
	apply(file) {
		const holder = new Sqlite(file);
		holder.exec('BEGIN EXCLUSIVE');
		return () => {
			holder.exec('ROLLBACK');
			holder.close();
		};
	}
};

/**
 * The database file and its write-ahead log made immutable (chattr +i). The tests run as root,
 * where chmod 0444 stops nothing; an immutable file refuses every write, root's and those
 * through descriptors opened before, so SQLite's next commit fails. The -shm index is left
 * alone: SQLite maps it into memory, and a refused write there is a SIGBUS that kills the
 * process — the signature of a whole filesystem gone read-only, which no app can answer.
 */
export const readOnlyFile: SqliteFault = {
	name: 'read-only (chattr +i on the file and its WAL)',
	cause: /the SQLite database file could not be read or written \(SQLITE_IOERR/,
	apply(file) {
		const files = [file, `${file}-wal`];
		for (const path of files)
			if (!existsSync(path)) throw new Error(`${path} does not exist: is the database in WAL mode?`);
		chattr('+i', files);
		return () => chattr('-i', files);
	}
};

/** Faults that strike a database the app already has open. */
export const SQLITE_FAULTS = [lockedByAnotherConnection, readOnlyFile];

/**
 * The database file made immutable while the app is stopped: SQLite, refused write access,
 * opens it read-only, and every write fails with SQLITE_READONLY. Lifting it takes a restart:
 * the app keeps the read-only handle it opened.
 */
export const readOnlyWhenOpened: SqliteFault = {
	name: 'read-only when opened (chattr +i on the file, then a start)',
	cause: /the SQLite database file is read-only \(SQLITE_READONLY/,
	apply(file) {
		chattr('+i', [file]);
		return () => chattr('-i', [file]);
	}
};

function chattr(flag: '+i' | '-i', files: string[]): void {
	try {
		execFileSync('chattr', [flag, ...files], { stdio: 'pipe' });
	} catch (error) {
		throw new Error(
			`chattr ${flag} failed: the read-only fault needs root (CAP_LINUX_IMMUTABLE) and a filesystem with file ` +
				`attributes (ext4, xfs, btrfs) under the temp directory: ${String((error as { stderr?: Buffer }).stderr ?? error)}`,
			{ cause: error }
		);
	}
}
