import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp, type TestAppOptions } from './app';
import { createScratchDatabase, type Dialect, type ScratchDatabase } from './databases';

/**
 * A fresh database of `dialect` with the app on it, for one describe block: created before its
 * tests, closed and dropped after them. Read `suite.app` inside the tests.
 */
export function useScratchApp(dialect: Dialect, options: TestAppOptions = {}): { app: TestApp } {
	const suite = {} as { app: TestApp };
	let scratch: ScratchDatabase | undefined;
	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		suite.app = await startTestApp(scratch.target, options);
	});
	afterAll(async () => {
		await suite.app?.database.close();
		await scratch?.drop();
	});
	return suite;
}
