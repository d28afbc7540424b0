import type { Database, Statement } from 'better-sqlite3';
import type { Row } from '../columns';

const WRITES_SO_FAR = 'SELECT data_version, total_changes() FROM pragma_data_version';

/** Enough for the signed-in users of a busy instance; the oldest row makes room. */
const MAX_CACHED_ROWS = 10_000;

/**
 * A cache of session rows, valid for as long as nothing has been written to the database
 * since: not by this connection (total_changes() counts every row it inserted, updated or
 * deleted) and not by any other (data_version changes when another connection commits — the
 * CLI, another process). Asking both is one statement, asked once for all the lookups of a
 * batch; any write at all empties the whole cache, so a revoked session is refused on the
 * next request exactly as without it. Nothing is kept while a transaction is open, since it
 * may roll back.
 */
export class SessionRowCache {
	readonly #client: Database;
	readonly #readRow: (token: string) => Row | undefined;
	readonly #writes: Statement<[], [number, number]>;
	readonly #rows = new Map<string, Row>();
	#seen = '';

	constructor(client: Database, readRow: (token: string) => Row | undefined) {
		this.#client = client;
		this.#readRow = readRow;
		this.#writes = client.prepare<[], [number, number]>(WRITES_SO_FAR).raw(true);
	}

	/** The rows of `tokens` that exist: from memory when nothing was written since, else read afresh. */
	read(tokens: string[]): Map<string, Row> {
		this.#forgetIfWritten();
		const found = new Map<string, Row>();
		for (const token of tokens) {
			let row = this.#rows.get(token);
			if (!row) {
				row = this.#readRow(token);
				if (row) this.#keep(token, row);
			}
			if (row) found.set(token, row);
		}
		return found;
	}

	#forgetIfWritten(): void {
		const stamp = this.#writes.get()!.join(':');
		if (stamp !== this.#seen || this.#client.inTransaction) {
			this.#rows.clear();
			this.#seen = stamp;
		}
	}

	#keep(token: string, row: Row): void {
		if (this.#client.inTransaction) return;
		if (this.#rows.size >= MAX_CACHED_ROWS) this.#rows.delete(this.#rows.keys().next().value!);
		this.#rows.set(token, row);
	}
}
