import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { expect, test } from '@playwright/test';
import { findLeaks, plantedTokenSample, responsePlaces, sessionTokenOf } from '../support/leak-scan';
import { TRAFFIC_DIR, type RecordedResponse } from './support/fixtures';
import { ALL_APPS, TEST_SECRET } from './support/servers';

// Runs after every other browser test (its project depends on theirs): the session tokens they
// were issued must appear in no response body, no header, no Set-Cookie line but as the session
// cookie's own value, and no server log line.

function recordedResponses(): RecordedResponse[] {
	if (!existsSync(TRAFFIC_DIR)) return [];
	return readdirSync(TRAFFIC_DIR).flatMap((file) =>
		readFileSync(join(TRAFFIC_DIR, file), 'utf8')
			.split('\n')
			.filter(Boolean)
			.map((line) => JSON.parse(line) as RecordedResponse)
	);
}

/** Tokens the browser was given (from Set-Cookie) plus every token still in the servers' databases. */
function issuedTokens(responses: RecordedResponse[]): Set<string> {
	const tokens = new Set<string>();
	for (const line of responses.flatMap((response) => response.setCookies)) {
		const token = sessionTokenOf(line);
		if (token) tokens.add(token);
	}
	for (const app of ALL_APPS) {
		const file = `${app.dataDir}/latchkey.db`;
		if (!existsSync(file)) continue;
		const db = new Sqlite(file, { readonly: true });
		for (const { token } of db.prepare<[], { token: string }>('SELECT token FROM session').all()) tokens.add(token);
		db.close();
	}
	return tokens;
}

function serverLogLines(): string[] {
	return ALL_APPS.flatMap((app) => {
		const file = `${app.dataDir}/server.log`;
		return existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
	});
}

/** Every way the suite gets responses; an opened context's page.request is recorded as its own context's is. */
const RECORDED_KINDS = ['test context, page', 'test context, api', 'opened context, page', 'request fixture, api'];

function countsOf(responses: RecordedResponse[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const { source, via } of responses) counts.set(`${source}, ${via}`, (counts.get(`${source}, ${via}`) ?? 0) + 1);
	return counts;
}

function describeCounts(counts: Map<string, number>): string {
	return [...counts].map(([kind, count]) => `${kind}: ${count}`).join('; ');
}

test('no session token or secret appears in any page, JSON, header, other Set-Cookie or log line', () => {
	const responses = recordedResponses();
	const tokens = issuedTokens(responses);
	const logLines = serverLogLines();
	const places = [
		...responsePlaces(responses),
		...logLines.map((line, index) => ({ where: `server log line ${index + 1}`, text: line }))
	];
	const hits = findLeaks(places, [...tokens, TEST_SECRET]);

	const counts = countsOf(responses);
	console.log(
		`leak scan: ${tokens.size} tokens, ${responses.length} responses (${describeCounts(counts)}), ${logLines.length} log lines scanned; ${hits.length} hits`
	);
	expect(tokens.size, 'the browser tests issued sessions to look for').toBeGreaterThan(10);
	expect(responses.filter((response) => response.body).length).toBeGreaterThan(50);
	// Each way a test gets a response is recorded: pages and page.request of its own context,
	// contexts it opens (browser.newContext), and the request fixture.
	for (const kind of RECORDED_KINDS) expect(counts.get(kind) ?? 0, `responses recorded: ${kind}`).toBeGreaterThan(0);
	expect(logLines.filter((line) => line.includes('"event":"session.')).length).toBeGreaterThan(10);
	// The scan's self-test on a real response: its token passes as the session cookie's own value,
	// and is caught when planted in another cookie's Set-Cookie line or in the session cookie's attributes.
	const sample = plantedTokenSample(responses);
	expect(sample, 'a recorded response that sets a session cookie').not.toBeNull();
	expect(findLeaks(responsePlaces([sample!.original]), [sample!.token])).toEqual([]);
	expect(findLeaks(responsePlaces([sample!.planted]), [sample!.token])).toEqual(sample!.plantedLines);
	expect(hits).toEqual([]);
});
