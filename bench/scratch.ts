import {
	createScratchDatabase as createTestDatabase,
	type Dialect,
	type ScratchDatabase
} from '../tests/integration/support/databases';

export { POSTGRES_ADMIN_URL, type Dialect, type ScratchDatabase } from '../tests/integration/support/databases';

/** Scratch databases not dropped yet, so an interrupted run can still clean up after itself. */
const undropped = new Set<ScratchDatabase>();

/** The tests' scratch database (a temporary SQLite file, or a database on TEST_POSTGRES_URL), dropped at most once. */
export async function createScratchDatabase(dialect: Dialect): Promise<ScratchDatabase> {
	const created = await createTestDatabase(dialect);
	const scratch: ScratchDatabase = {
		target: created.target,
		drop: async () => {
			if (!undropped.delete(scratch)) return;
			await created.drop();
		}
	};
	undropped.add(scratch);
	return scratch;
}

export async function dropAllScratchDatabases(): Promise<void> {
	await Promise.allSettled([...undropped].map((scratch) => scratch.drop()));
}
