import { RefusedUrl } from './port';
import { ENGINES, type DatabaseTarget } from './engines';
import { redactCredentials } from './redact';

export type { DatabaseTarget, Dialect } from './engines';
export { redactCredentials } from './redact';

const engines = Object.values(ENGINES);
const ACCEPTED_FORMS = `use ${engines.map((engine) => engine.urlForm).join(', or ')}`;

/** Picks the engine from DATABASE_URL: the registry's first (the default) when unset, else the one whose form it has. */
export function parseDatabaseUrl(raw: string | undefined): DatabaseTarget {
	const value = raw?.trim();
	if (!value) return defaultTarget();
	for (const engine of engines) {
		let target: DatabaseTarget | null;
		try {
			target = engine.parseUrl(value);
		} catch (error) {
			if (!(error instanceof RefusedUrl)) throw error;
			// No cause: the refusal may quote the URL with its password; this message redacts it.
			// eslint-disable-next-line preserve-caught-error
			throw new Error(`DATABASE_URL "${redactCredentials(value)}" ${error.message}; ${ACCEPTED_FORMS}`);
		}
		if (target) return target;
	}
	throw new Error(`DATABASE_URL "${redactCredentials(value)}" is not supported; ${ACCEPTED_FORMS}`);
}

function defaultTarget(): DatabaseTarget {
	for (const engine of engines) if (engine.defaultTarget) return engine.defaultTarget();
	throw new Error('no engine in db/engines.ts is the default');
}

/** The engine and where its data lives, without credentials, for log lines. */
export function describeTarget(target: DatabaseTarget): string {
	return engineOf(target).describe(target as never);
}

export function engineOf(target: DatabaseTarget) {
	return ENGINES[target.dialect];
}
