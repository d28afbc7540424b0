import { getTableColumns, type Table } from 'drizzle-orm';

/**
 * For the engines' storage.spec.ts: holds a lookup's reader to its SELECT list and to the
 * schema, without the lookup itself recovering anything from its SQL text.
 */

/** The schema's field (`prefix.key`) for each column name of `table`. */
export function fieldsOf(table: Table, prefix: string): Map<string, string> {
	return new Map(Object.entries(getTableColumns(table)).map(([key, column]) => [column.name, `${prefix}${key}`]));
}

/**
 * Which field of the reader's result each position of the row fills: every position is set
 * on its own, and the one field that then differs from an all-null row is the one it fills.
 */
export function fieldsByPosition(read: (row: unknown[]) => object, length: number): string[] {
	const baseline = flatten(read(Array.from({ length }, () => null)));
	return Array.from({ length }, (_, position) => {
		const row: unknown[] = Array.from({ length }, () => null);
		row[position] = 1;
		const changed = Object.entries(flatten(read(row)))
			.filter(([field, value]) => !sameValue(value, baseline[field]))
			.map(([field]) => field);
		return changed.length === 1 ? changed[0]! : `(${changed.length} fields: ${changed.join(', ')})`;
	});
}

/** Every field of the result, nested objects (session, user) as `session.id`; Dates are values. */
export function flatten(value: object, prefix = ''): Record<string, unknown> {
	const fields: Record<string, unknown> = {};
	for (const [key, field] of Object.entries(value)) {
		if (field !== null && typeof field === 'object' && !(field instanceof Date)) {
			Object.assign(fields, flatten(field as object, `${prefix}${key}.`));
		} else fields[`${prefix}${key}`] = field;
	}
	return fields;
}

function sameValue(a: unknown, b: unknown): boolean {
	if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
	return Object.is(a, b);
}
