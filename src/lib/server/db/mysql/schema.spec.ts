import { getTableName, is, Table, type Column } from 'drizzle-orm';
import { getTableConfig as mysqlTableConfig, type MySqlTable } from 'drizzle-orm/mysql-core';
import { getTableConfig as pgTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import * as postgresSchema from '../postgres/schema';
import * as mysqlSchema from './schema';

/**
 * The MySQL tables equal the PostgreSQL ones, described in engine-free terms: columns (the kind
 * of value, nullability, default, unique), primary and foreign keys, indexes.
 */
const TYPE_FAMILIES: Record<string, string> = {
	PgText: 'text',
	PgInteger: 'integer',
	PgBigInt53: 'integer',
	PgTimestamp: 'timestamp',
	PgBoolean: 'boolean',
	MySqlVarChar: 'text',
	MySqlText: 'text',
	MySqlInt: 'integer',
	MySqlBigInt53: 'integer',
	MySqlDateTime: 'timestamp',
	MySqlBoolean: 'boolean'
};

interface TableConfig {
	columns: Column[];
	primaryKeys: Array<{ columns: Column[] }>;
	foreignKeys: Array<{
		reference(): { columns: Column[]; foreignTable: Table; foreignColumns: Column[] };
		onDelete?: string;
		onUpdate?: string;
	}>;
	indexes: Array<{ config: { name?: string; columns: unknown[]; unique?: boolean } }>;
	uniqueConstraints: Array<{ columns: Column[] }>;
}

const names = (columns: unknown[]) => columns.map((column) => (column as Column).name).join(', ');

function shapeOf(config: TableConfig) {
	const columns: Record<string, unknown> = {};
	for (const column of config.columns) {
		const type = TYPE_FAMILIES[column.columnType];
		if (!type) throw new Error(`column ${column.name}: add ${column.columnType} to TYPE_FAMILIES`);
		columns[column.name] = { type, notNull: column.notNull, hasDefault: column.hasDefault, unique: column.isUnique };
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
				return `(${names(from)}) -> ${getTableName(foreignTable)}(${names(foreignColumns)}) on delete ${key.onDelete}`;
			})
			.sort(),
		indexes: config.indexes
			.map(({ config: index }) => `${index.unique ? 'unique ' : ''}${index.name} (${names(index.columns)})`)
			.sort(),
		uniques: config.uniqueConstraints.map((constraint) => names(constraint.columns)).sort()
	};
}

function tablesOf(schema: Record<string, unknown>): Map<string, Table> {
	const tables = new Map<string, Table>();
	for (const value of Object.values(schema)) if (is(value, Table)) tables.set(getTableName(value), value);
	return tables;
}

const postgresTables = tablesOf(postgresSchema);
const mysqlTables = tablesOf(mysqlSchema);

describe('the MySQL schema', () => {
	it('has the tables of the PostgreSQL schema', () => {
		expect([...mysqlTables.keys()].sort()).toEqual([...postgresTables.keys()].sort());
	});

	it.each([...postgresTables.keys()])('defines %s as the PostgreSQL schema does', (name) => {
		const table = mysqlTables.get(name);
		expect(table, `no table ${name}`).toBeDefined();
		expect(shapeOf(mysqlTableConfig(table as MySqlTable))).toEqual(
			shapeOf(pgTableConfig(postgresTables.get(name) as PgTable))
		);
	});
});
