import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { rowReader } from './columns';
import { session as pgSession } from './postgres/schema';
import { session } from './sqlite/schema';

const names = getTableConfig(session).columns.map((column) => column.name);

describe('rowReader', () => {
	it('reads a whole row by the schema: keys as the schema names them, values as its types say', () => {
		const values: Record<string, unknown> = {
			id: 's1',
			user_id: 'u1',
			token: 't1',
			expires_at: 1_700_000_000_000,
			created_at: '2023-11-14T22:13:20.000Z',
			updated_at: new Date(1_700_000_000_000),
			ip_address: null,
			user_agent: 'UA',
			policy: 'standard',
			idle_seconds: '604800',
			refresh_seconds: 86400,
			absolute_expires_at: null,
			known_networks: '',
			persistent: 1,
			device_key: null,
			device_bound_at: null
		};
		const read = rowReader<Record<string, unknown>>(session, names);

		expect(read(['ignored', ...names.map((name) => values[name])], 1)).toEqual({
			id: 's1',
			userId: 'u1',
			token: 't1',
			expiresAt: new Date(1_700_000_000_000),
			createdAt: new Date(1_700_000_000_000),
			updatedAt: new Date(1_700_000_000_000),
			ipAddress: null,
			userAgent: 'UA',
			policy: 'standard',
			idleSeconds: 604800,
			refreshSeconds: 86400,
			absoluteExpiresAt: null,
			knownNetworks: '',
			persistent: true,
			deviceKey: null,
			deviceBoundAt: null
		});
	});

	it('reads booleans from either engine', () => {
		const read = rowReader<{ persistent: boolean }>(pgSession, names);
		const at = names.indexOf('persistent');
		const row = (value: unknown) => names.map((_, i) => (i === at ? value : 'x'));
		expect([true, 1, false, 0].map((value) => read(row(value)).persistent)).toEqual([true, true, false, false]);
	});

	it('refuses a statement that leaves out a column of the table, or reads one it does not have', () => {
		expect(() => rowReader(session, names.slice(1))).toThrow(/leaves out id/);
		expect(() => rowReader(session, [...names, 'extra'])).toThrow(/reads extra/);
	});
});
