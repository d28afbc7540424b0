import { getTableName, is, sql, SQL, Table, type Column } from 'drizzle-orm';
import {
	datetime as mysqlDatetime,
	getTableConfig as mysqlTableConfig,
	int as mysqlInt,
	MySqlDialect,
	mysqlTable,
	varchar as mysqlVarchar,
	type MySqlTable
} from 'drizzle-orm/mysql-core';
import {
	getTableConfig as pgTableConfig,
	integer as pgInteger,
	PgDialect,
	pgTable,
	text as pgText,
	timestamp as pgTimestamp,
	type PgTable
} from 'drizzle-orm/pg-core';
import {
	getTableConfig as sqliteTableConfig,
	integer as sqliteInteger,
	SQLiteSyncDialect,
	sqliteTable,
	text as sqliteText,
	type SQLiteTable
} from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { typeFamilyOf } from './columns';
import { ENGINES } from './engines';
import * as mysqlSchema from './mysql/schema';
import * as postgresSchema from './postgres/schema';
import * as sqliteSchema from './sqlite/schema';

/**
 * Each engine keeps its own Drizzle schema (drizzle-kit generates its migrations from it);
 * this keeps them one truth. Every engine in the registry (db/engines.ts) has its tables
 * described here in the same engine-free terms, and they must equal the first engine's, table
 * by table: column types, nullability, default values, keys and indexes.
 */

type EngineName = keyof typeof ENGINES;

interface TableShape {
	/** One line per column (type, nullability, default, $onUpdate, unique), so a diff line names its column. */
	columns: Record<string, string>;
	primaryKey: string[];
	foreignKeys: string[];
	indexes: string[];
	uniques: string[];
}

/** What every engine's table config has in common (the core packages' configs differ only in their column types). */
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

/** How one engine's schema reads in the shared terms. */
interface Describer {
	schema: Record<string, unknown>;
	config: (table: Table) => TableConfig;
	/** A default's SQL as the engine's Drizzle dialect writes it. */
	sqlText: (expression: SQL) => string;
	/** The engine's spellings of "the current time" as a default, as normalizeSql leaves them. */
	now: readonly string[];
}

const DESCRIBERS: Record<EngineName, Describer> = {
	sqlite: {
		schema: sqliteSchema,
		config: (table) => sqliteTableConfig(table as SQLiteTable),
		sqlText: (expression) => new SQLiteSyncDialect().sqlToQuery(expression).sql,
		// Times are epoch milliseconds (timestamp_ms) there: CURRENT_TIMESTAMP would store text,
		// and a bare unixepoch() seconds, so neither counts as the current time.
		now: ['unixepoch() * 1000', "unixepoch('subsec') * 1000", "cast(unixepoch('subsec') * 1000 as integer)"]
	},
	postgres: {
		schema: postgresSchema,
		config: (table) => pgTableConfig(table as PgTable),
		sqlText: (expression) => new PgDialect().sqlToQuery(expression).sql,
		now: ['now()', 'current_timestamp', 'current_timestamp(3)']
	},
	mysql: {
		schema: mysqlSchema,
		config: (table) => mysqlTableConfig(table as MySqlTable),
		sqlText: (expression) => new MySqlDialect().sqlToQuery(expression).sql,
		now: ['now()', 'now(3)', 'current_timestamp', 'current_timestamp()', 'current_timestamp(3)']
	}
};

const names = (columns: unknown[]) => columns.map((column) => (column as Column).name).join(', ');

/** Lower case, single spaces, no parentheses around the whole: how engines and authors vary the same expression. */
function normalizeSql(text: string): string {
	let normalized = text.trim().replace(/\s+/g, ' ').toLowerCase();
	while (normalized.startsWith('(') && normalized.endsWith(')') && wrapsWhole(normalized)) {
		normalized = normalized.slice(1, -1).trim();
	}
	return normalized;
}

/** Whether the opening parenthesis at the start closes at the very end, as in `(a + b)` but not `(a) + (b)`. */
function wrapsWhole(text: string): boolean {
	let depth = 0;
	for (let i = 0; i < text.length; i++) {
		if (text[i] === '(') depth++;
		else if (text[i] === ')') depth--;
		if (depth === 0 && i < text.length - 1) return false;
	}
	return depth === 0;
}

function valueText(value: unknown): string {
	if (value instanceof Date) return `timestamp ${value.toISOString()}`;
	if (typeof value === 'bigint') return String(value);
	return JSON.stringify(value);
}

function defaultOf(column: Column, describer: Describer): string {
	if (column.generated || column.generatedIdentity) {
		throw new Error(`column ${column.name}: describe generated columns in schema.spec.ts before comparing them`);
	}
	// A function's body cannot be compared across schemas, only that the application supplies the value.
	if (column.defaultFn) return '$defaultFn';
	if (is(column.default, SQL)) {
		const text = normalizeSql(describer.sqlText(sql`${column.default}`.inlineParams()));
		return describer.now.includes(text) ? 'the current time' : `sql ${text}`;
	}
	if (column.default !== undefined) return valueText(column.default);
	// $onUpdate alone also marks a column as having a default; it is described apart.
	if (column.hasDefault && !column.onUpdateFn) return 'set by the engine (serial or autoincrement)';
	return 'none';
}

function describeTable(table: Table, describer: Describer): TableShape {
	const config = describer.config(table);
	const columns: TableShape['columns'] = {};
	for (const column of config.columns) {
		columns[column.name] = [
			typeFamilyOf(column),
			column.notNull ? 'not null' : 'nullable',
			`default ${defaultOf(column, describer)}`,
			...(column.onUpdateFn ? ['$onUpdate'] : []),
			...(column.isUnique ? ['unique'] : [])
		].join(', ');
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

// The registry decides which engines are compared, so an engine cannot be added without being held to the others.
const [referenceName, ...otherNames] = Object.keys(ENGINES) as EngineName[];
const reference = DESCRIBERS[referenceName!];
const referenceTables = tablesOf(reference.schema);

describe('the engines compared', () => {
	it('are the engines of the registry (db/engines.ts), each with its schema described here', () => {
		expect(Object.keys(DESCRIBERS).sort(), 'DESCRIBERS here (received), ENGINES in db/engines.ts (expected)').toEqual(
			Object.keys(ENGINES).sort()
		);
	});
});

describe.each(otherNames)('the %s schema', (name) => {
	const describer = DESCRIBERS[name] as Describer | undefined;
	const tables = describer ? tablesOf(describer.schema) : new Map<string, Table>();

	it(`has the tables of the ${referenceName} schema`, () => {
		expect(describer, `add ${name} to DESCRIBERS in schema.spec.ts`).toBeDefined();
		expect([...tables.keys()].sort()).toEqual([...referenceTables.keys()].sort());
	});

	it.each([...referenceTables.keys()])(`defines %s as the ${referenceName} schema does`, (tableName) => {
		const table = tables.get(tableName);
		expect(table, `${name} has no table ${tableName}`).toBeDefined();
		expect(
			describeTable(table!, describer!),
			`${name} table ${tableName} (expected: ${referenceName}, received: ${name})`
		).toEqual(describeTable(referenceTables.get(tableName)!, reference));
	});
});

describe('the schema description', () => {
	it('sees every kind of difference it checks', () => {
		const shape = describeTable(referenceTables.get('session')!, reference);
		expect(shape.columns.token).toBe('text, not null, default none, unique');
		expect(shape.columns.known_networks).toBe('text, not null, default ""');
		expect(shape.columns.absolute_expires_at).toBe('timestamp, nullable, default none');
		expect(describeTable(referenceTables.get('user')!, reference).columns.email_verified).toBe(
			'boolean, not null, default false'
		);
		expect(shape.primaryKey).toEqual(['id']);
		expect(shape.foreignKeys).toEqual(['(user_id) -> user(id) on delete cascade on update no action']);
		expect(shape.indexes).toEqual(['session_expires_at_idx (expires_at)', 'session_user_id_idx (user_id)']);
	});

	it('reads each engine’s way of saying the same default as the same', () => {
		const stamp = () => 'generated';
		const tables: Record<EngineName, Table> = {
			sqlite: sqliteTable('t', {
				at: sqliteInteger('at', { mode: 'timestamp_ms' }).default(sql`(cast(unixepoch('subsec') * 1000 as integer))`),
				count: sqliteInteger('count').default(0),
				label: sqliteText('label').default("it's").$onUpdate(stamp),
				id: sqliteText('id').$defaultFn(stamp)
			}),
			postgres: pgTable('t', {
				at: pgTimestamp('at', { withTimezone: true }).defaultNow(),
				count: pgInteger('count').default(0),
				label: pgText('label').default("it's").$onUpdate(stamp),
				id: pgText('id').$defaultFn(stamp)
			}),
			mysql: mysqlTable('t', {
				at: mysqlDatetime('at', { fsp: 3 }).default(sql`CURRENT_TIMESTAMP(3)`),
				count: mysqlInt('count').default(0),
				label: mysqlVarchar('label', { length: 8 }).default("it's").$onUpdate(stamp),
				id: mysqlVarchar('id', { length: 8 }).$defaultFn(stamp)
			})
		};
		for (const name of Object.keys(ENGINES) as EngineName[]) {
			expect(describeTable(tables[name], DESCRIBERS[name]).columns, name).toEqual({
				at: 'timestamp, nullable, default the current time',
				count: 'integer, nullable, default 0',
				label: `text, nullable, default "it's", $onUpdate`,
				id: 'text, nullable, default $defaultFn'
			});
		}
	});

	it('keeps any other default as its value or its SQL', () => {
		const columns = describeTable(
			pgTable('t', {
				since: pgTimestamp('since').default(sql`now() - interval '1 day'`),
				count: pgInteger('count').default(1)
			}),
			DESCRIBERS.postgres
		).columns;
		expect(columns).toEqual({
			since: "timestamp, nullable, default sql now() - interval '1 day'",
			count: 'integer, nullable, default 1'
		});
	});
});
