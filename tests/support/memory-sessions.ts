import type { SessionRows, StoredSession } from '../../src/lib/server/db/port';

/** One call of extend, and whether it wrote. */
export interface ExtendCall {
	sessionId: string;
	expiresAt: Date;
	refreshedAt: Date;
	seenRefreshAt: Date;
	wrote: boolean;
}

/**
 * The part of the storage port's session rows the validator uses, held in a Map, for the
 * validator's unit spec (src/lib/server/auth/validator.spec.ts): rows by token,
 * each lookup a copy (as a database hands out a fresh row), extend a compare-and-set on
 * updatedAt. Every extend is recorded, so a spec can assert which writes a request made.
 */
export class MemorySessions implements Pick<SessionRows, 'findByToken' | 'extend'> {
	readonly extendCalls: ExtendCall[] = [];
	/** Runs after a lookup has read its row: what another request does before this one goes on. */
	afterFind: (() => void) | null = null;
	readonly #rows = new Map<string, StoredSession>();

	constructor(rows: StoredSession[] = []) {
		for (const row of rows) this.#rows.set(row.session.token, structuredClone(row));
	}

	async findByToken(token: string): Promise<StoredSession | null> {
		const row = this.#rows.get(token);
		const found = row ? structuredClone(row) : null;
		this.afterFind?.();
		return found;
	}

	async extend(sessionId: string, expiresAt: Date, refreshedAt: Date, seenRefreshAt: Date): Promise<boolean> {
		const row = [...this.#rows.values()].find(({ session }) => session.id === sessionId);
		const wrote = row !== undefined && row.session.updatedAt.getTime() === seenRefreshAt.getTime();
		if (wrote) Object.assign(row.session, { expiresAt, updatedAt: refreshedAt });
		this.extendCalls.push({ sessionId, expiresAt, refreshedAt, seenRefreshAt, wrote });
		return wrote;
	}

	/** The stored row as it is now, or undefined once ended. */
	row(token: string): StoredSession | undefined {
		const row = this.#rows.get(token);
		return row && structuredClone(row);
	}

	/** Ends a session as revocation does: its row is gone; true when it existed. */
	end(token: string): boolean {
		return this.#rows.delete(token);
	}
}
