import { getTableColumns, type Column, type Table } from 'drizzle-orm';
import type { SecurityEventRow } from './port';

/** The kind of value a column holds, whatever the engine calls its type. */
export type TypeFamily = 'text' | 'integer' | 'boolean' | 'timestamp';

/** Drizzle's column classes by family; an engine's folder adds its own here. */
const TYPE_FAMILIES: Record<string, TypeFamily> = {
	SQLiteText: 'text',
	SQLiteInteger: 'integer',
	SQLiteTimestamp: 'timestamp',
	SQLiteBoolean: 'boolean',
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

export function typeFamilyOf(column: Column): TypeFamily {
	const family = TYPE_FAMILIES[column.columnType];
	if (!family) throw new Error(`column ${column.name}: add ${column.columnType} to TYPE_FAMILIES in db/columns.ts`);
	return family;
}

/**
 * What a driver gives back, as the schema's type says: times arrive as epoch milliseconds, ISO
 * text or Date; booleans as 0/1 or true/false; integers as numbers or (counts, bigints) text.
 */
const FROM_DRIVER: Record<TypeFamily, (value: unknown) => unknown> = {
	text: (value) => value,
	integer: (value) => Number(value),
	boolean: (value) => value === true || value === 1 || value === '1',
	timestamp: (value) => new Date(value as number | string | Date)
};

/** A row as an array, in the order its statement names the columns: drivers build these far more cheaply than objects. */
export type Row = unknown[];

/**
 * Reads the columns `names` (as a statement returns them, in that order, from `start`) of a row
 * of `table` into an object keyed as the schema is. Every column of the table must be there:
 * the objects are the schema's rows, not a hand-picked part of them.
 */
export function rowReader<T>(table: Table, names: string[]): (row: Row, start?: number) => T {
	const byName = new Map(Object.entries(getTableColumns(table)).map(([key, column]) => [column.name, { key, column }]));
	const missing = [...byName.keys()].filter((name) => !names.includes(name));
	if (missing.length > 0) throw new Error(`the statement leaves out ${missing.join(', ')}`);
	const fields = names.map((name) => {
		const found = byName.get(name);
		if (!found) throw new Error(`the statement reads ${name}, which the schema does not have`);
		return { key: found.key, read: FROM_DRIVER[typeFamilyOf(found.column)] };
	});
	return (row, start = 0) => {
		const record: Record<string, unknown> = {};
		for (let i = 0; i < fields.length; i++) {
			const value = row[start + i];
			record[fields[i]!.key] = value == null ? null : fields[i]!.read(value);
		}
		return record as T;
	};
}

/**
 * A security event's values in the column order of the engines' `INSERT INTO security_event`,
 * for drivers that take a Date for a timestamp (SQLite stores epoch milliseconds instead).
 */
export function securityEventValues(event: SecurityEventRow): unknown[] {
	return [
		event.id,
		event.userId,
		event.sessionId,
		event.type,
		event.createdAt,
		event.ipAddress,
		event.userAgent,
		event.detail
	];
}
