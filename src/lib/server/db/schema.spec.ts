import { getTableName, is, Table, type Column } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { typeFamilyOf } from './columns';
import * as postgresSchema from './postgres/schema';
import * as sqliteSchema from './sqlite/schema';

/**
 * Each engine keeps its own Drizzle schema (drizzle-kit generates its migrations from it);
 * this keeps them one truth. Every engine's tables are described in the same engine-free
 * terms and must equal the first engine's, table by table. A new engine is one more entry.
 */
const ENGINES: Array<{ name: string; schema: Record<string, unknown>; describe: (table: Table) => TableShape }> = [
	{ name: 'sqlite', schema: sqliteSchema, describe: (table) => shapeOf(sqliteTableConfig(table as SQLiteTable)) },
	{ name: 'postgres', schema: postgresSchema, describe: (table) => shapeOf(pgTableConfig(table as PgTable)) }
];

interface TableShape {
	columns: Record<string, { type: string; notNull: boolean; hasDefault: boolean; unique: boolean }>;
	primaryKey: string[];
	foreignKeys: string[];
	indexes: string[];
	uniques: string[];
}

/** What every engine's table config has in common (sqlite-core's and pg-core's differ only in their column types). */
interface TableConfig {
	columns: Column[];
	primaryKeys: Array<{ columns: Column[] }>;
	foreignKeys: Array<{
		reference(): { columns: Column[]; foreignTable: Table; foreignColumns: Column[] };
		onDelete?: string;
		onUpdate?: string;
	}>;
	indexes: Array<{ config: { name?: string; columns: unknown[]; unique: boolean } }>;
	uniqueConstraints: Array<{ columns: Column[] }>;
}

const names = (columns: unknown[]) => columns.map((column) => (column as Column).name).join(', ');

function shapeOf(config: TableConfig): TableShape {
	const columns: TableShape['columns'] = {};
	for (const column of config.columns) {
		columns[column.name] = {
			type: typeFamilyOf(column),
			notNull: column.notNull,
			hasDefault: column.hasDefault,
			unique: column.isUnique
		};
	}
	return {
		columns,
		primaryKey: [
			...config.columns.filter((column) => column.primary).map((column) => column.name),
			...config.primaryKeys.map((key) => names(key.columns))
		],
		foreignKeys: config.foreignKeys
			.map((key) => {
				const { columns: from, foreignTable, foreignColumns } = key.reference();
				const to = `${getTableName(foreignTable)}(${names(foreignColumns)})`;
				return `(${names(from)}) -> ${to} on delete ${key.onDelete ?? 'no action'} on update ${key.onUpdate ?? 'no action'}`;
			})
			.sort(),
		indexes: config.indexes
			.map(
				({ config: index }) => `${index.unique ? 'unique ' : ''}${index.name ?? '(unnamed)'} (${names(index.columns)})`
			)
			.sort(),
		uniques: config.uniqueConstraints.map((constraint) => names(constraint.columns)).sort()
	};
}

function tablesOf(schema: Record<string, unknown>): Map<string, Table> {
	const tables = new Map<string, Table>();
	for (const value of Object.values(schema)) if (is(value, Table)) tables.set(getTableName(value), value);
	return tables;
}

const [reference, ...others] = ENGINES;
const referenceTables = tablesOf(reference!.schema);

describe.each(others)('the $name schema', (engine) => {
	const tables = tablesOf(engine.schema);

	it(`has the tables of the ${reference!.name} schema`, () => {
		expect([...tables.keys()].sort()).toEqual([...referenceTables.keys()].sort());
	});

	it.each([...referenceTables.keys()])('defines %s as the reference engine does', (name) => {
		const table = tables.get(name);
		expect(table, `${engine.name} has no table ${name}`).toBeDefined();
		expect(engine.describe(table!)).toEqual(reference!.describe(referenceTables.get(name)!));
	});
});

describe('the schema description', () => {
	it('sees every kind of difference it checks', () => {
		const shape = reference!.describe(referenceTables.get('session')!);
		expect(Object.keys(shape.columns)).toContain('token');
		expect(shape.columns.token).toEqual({ type: 'text', notNull: true, hasDefault: false, unique: true });
		expect(shape.columns.known_networks!.hasDefault).toBe(true);
		expect(shape.primaryKey).toEqual(['id']);
		expect(shape.foreignKeys).toEqual(['(user_id) -> user(id) on delete cascade on update no action']);
		expect(shape.indexes).toEqual(['session_expires_at_idx (expires_at)', 'session_user_id_idx (user_id)']);
	});
});
