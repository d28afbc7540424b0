import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/lib/server/db';
import type { DatabaseTarget } from '../../src/lib/server/db/target';
import { createScratchDatabase, type ScratchDatabase } from '../integration/support/databases';
import { sessionRows } from '../integration/support/rows';
import { isSignedIn, signIn } from './support/browser';
import { startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

/** A database of the test's own: a SQLite file in a temp directory, or a scratch database on a server. */
async function ownDatabase(
	dialect: DatabaseTarget['dialect']
): Promise<{ url: string; target: DatabaseTarget; drop(): Promise<void> }> {
	if (dialect !== 'sqlite') {
		const scratch: ScratchDatabase = await createScratchDatabase(dialect);
		return { url: (scratch.target as { url: string }).url, target: scratch.target, drop: scratch.drop };
	}
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-restart-'));
	const file = join(dir, 'latchkey.db');
	return {
		url: file,
		target: { dialect: 'sqlite', file },
		drop: async () => rmSync(dir, { recursive: true, force: true })
	};
}

describe.each([
	{ dialect: 'sqlite' as const, port: 4402, smtp: 2562 },
	{ dialect: 'postgres' as const, port: 4403, smtp: 2563 },
	{ dialect: 'mysql' as const, port: 4404, smtp: 2564 }
])('restart of a production build on $dialect', ({ dialect, port, smtp }) => {
	let own: Awaited<ReturnType<typeof ownDatabase>>;
	let database: Storage;
	let mail: MailSink;
	let app: Instance;

	const start = () =>
		startInstance(port, { DATABASE_URL: own.url, SMTP_URL: `smtp://127.0.0.1:${smtp}`, PURGE_INTERVAL: 'off' });

	beforeAll(async () => {
		own = await ownDatabase(dialect);
		mail = await startMailSink(smtp);
		app = await start();
		database = openStorage(own.target);
	});

	afterAll(async () => {
		await app?.stop();
		await database?.close();
		await mail?.stop();
		await own?.drop();
	});

	const rowIds = async () => (await sessionRows(database)).map((row) => row.id).sort();

	it('sessions survive SIGTERM and a new process on the same database: same cookies signed in, rows unchanged', async () => {
		const cookies = [];
		for (const email of ['ada@example.com', 'grace@example.com', 'ada@example.com']) {
			cookies.push(await signIn(app, mail, `${dialect}-${email}`));
		}
		for (const cookie of cookies) expect(await isSignedIn(app, cookie)).toBe(true);
		const rowsBefore = await rowIds();

		const stopping = app;
		const stopStarted = Date.now();
		await stopping.stop();
		const stopMs = Date.now() - stopStarted;
		const stopped = !stopping.running();
		app = await start();
		const signedInAfter = [];
		for (const cookie of cookies) signedInAfter.push(await isSignedIn(app, cookie));
		const rowsAfter = await rowIds();
		console.log(
			`restart of a production build on ${dialect}: first process stopped by SIGTERM: ${stopped} in ${stopMs} ms; ` +
				`${signedInAfter.filter(Boolean).length}/${cookies.length} cookies signed in on the new one; ` +
				`session rows ${rowsBefore.length} → ${rowsAfter.length}`
		);

		expect(stopped).toBe(true);
		// stop() sends SIGKILL after 10 s: the process ended on SIGTERM, before that.
		expect(stopMs).toBeLessThan(10_000);
		expect(stopping.output()).not.toMatch(/Error|error/);
		expect(signedInAfter).toEqual([true, true, true]);
		expect(rowsBefore).toHaveLength(3);
		expect(rowsAfter).toEqual(rowsBefore);
	});
});
