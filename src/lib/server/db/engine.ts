import type { Storage, StorageOptions } from './port';

/**
 * What an engine's folder (`db/<engine>/index.ts`) gives the registry (engines.ts): how to
 * recognise its DATABASE_URL, open it, build the storage port on it and name its faults.
 */
export interface Engine<
	Target extends { dialect: string },
	Handle extends { dialect: string; close(): Promise<void> }
> {
	name: Target['dialect'];
	/** Its DATABASE_URL form, as an error message offers it: "<example> for <engine>". */
	urlForm: string;
	/** The target a DATABASE_URL value names, null when it is not this engine's; throws RefusedUrl for a malformed one. */
	parseUrl(value: string): Target | null;
	/** The target when DATABASE_URL is not set, for the default engine. */
	defaultTarget?: () => Target;
	/** The engine and where its data lives, without credentials, for log lines. */
	describe(target: Target): string;
	/** A connection (or pool) to the target, with its Drizzle database. */
	open(target: Target, options: StorageOptions): Handle;
	/** The storage port on an open connection; closing the storage closes the connection. */
	storage(handle: Handle, options: StorageOptions): Omit<Storage, 'classifyFault'>;
	/**
	 * The fault this one error (not its causes: the caller walks those) says the database has,
	 * from the driver's code (undefined when it has none) or its message; null when none.
	 */
	faultOf(code: string | undefined, message: string): string | null;
}

/** A DATABASE_URL in an engine's form that cannot be used; the message says why (e.g. "names no file"). */
export class RefusedUrl extends Error {}
