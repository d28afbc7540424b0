import type { Engine } from '../port';
import { redactCredentials } from '../redact';
import { openPostgres, type PostgresDatabase, type PostgresTarget } from './connection';
import { postgresFaultOf } from './faults';
import { postgresStorage } from './storage';

export type { PostgresDatabase, PostgresTarget } from './connection';

/** A server: `postgres://` or `postgresql://` URLs. */
export const postgres: Engine<PostgresTarget, PostgresDatabase> = {
	name: 'postgres',
	urlForm: 'postgres://user:password@host:5432/database for PostgreSQL',
	parseUrl: (value) => (/^postgres(ql)?:\/\//i.test(value) ? { dialect: 'postgres', url: value } : null),
	describe: ({ url }) => `PostgreSQL at ${redactCredentials(url)}`,
	open: openPostgres,
	storage: postgresStorage,
	faultOf: postgresFaultOf
};
