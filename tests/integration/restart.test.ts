import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFrom, signIn, startTestApp, type TestApp } from './support/app';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';
import { sessionRows } from './support/rows';

describe.each(DIALECTS)('restart on %s', (dialect) => {
	let scratch: ScratchDatabase;
	let restarted: TestApp | undefined;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
	});

	afterAll(async () => {
		await restarted?.database.close();
		await scratch?.drop();
	});

	const rowIds = async (app: TestApp) => (await sessionRows(app.database)).map((row) => row.id).sort();

	it('sessions survive: a new app on the same database knows every cookie, and the rows are unchanged', async () => {
		const before = await startTestApp(scratch.target);
		const cookies = [];
		for (const email of ['ada@example.com', 'grace@example.com', 'ada@example.com']) {
			cookies.push(sessionCookieFrom(await signIn(before, email)));
		}
		const rowsBefore = await rowIds(before);
		await before.database.close();

		restarted = await startTestApp(scratch.target);
		const checks = await Promise.all(cookies.map((cookie) => restarted!.validator.validateSessionCookie(cookie)));
		const rowsAfter = await rowIds(restarted);
		const signedIn = checks.filter((check) => check.session !== null).length;
		console.log(
			`restart on ${dialect}: ${signedIn}/${cookies.length} cookies signed in after, session rows ${rowsBefore.length} → ${rowsAfter.length}`
		);

		expect(signedIn).toBe(cookies.length);
		expect(checks.map((check) => check.user?.email)).toEqual([
			'ada@example.com',
			'grace@example.com',
			'ada@example.com'
		]);
		expect(checks.map((check) => check.session!.id).sort()).toEqual(rowsBefore);
		expect(rowsAfter).toEqual(rowsBefore);
	});
});
