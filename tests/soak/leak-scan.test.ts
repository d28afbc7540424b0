import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findLeaks, isSessionCookie, plantedTokenSample, responsePlaces, sessionTokenOf } from '../support/leak-scan';
import { recordedHarvests, recordedInstances, recordedResponses } from './support/recordings';

// Runs after every other soak file (support/sequencer.ts): the session tokens the production
// instances issued, and their BETTER_AUTH_SECRET, must appear in no response body, no header, no
// Set-Cookie line but as the session cookie's own value, and no line any instance printed.

describe('soak leak scan', () => {
	it('no session token or secret in any response body, header, other Set-Cookie or instance log line', () => {
		const responses = recordedResponses();
		const instances = recordedInstances();
		const harvests = recordedHarvests();
		const cookieTokens = new Set(
			responses.flatMap((response) => response.setCookies.map(sessionTokenOf).filter((token) => token !== null))
		);
		const databaseTokens = new Set(harvests.flatMap((harvest) => ('tokens' in harvest ? harvest.tokens : [])));
		const tokens = new Set([...cookieTokens, ...databaseTokens]);
		const secrets = new Set(instances.map((instance) => instance.secret).filter(Boolean));
		const logLines = instances.flatMap((instance) => readFileSync(instance.logFile, 'utf8').split('\n'));
		const setCookies = responses.flatMap((response) =>
			response.setCookies.map((line) => ({ where: `Set-Cookie of ${response.url}`, text: line }))
		);
		const places = [
			...responsePlaces(responses),
			...logLines.map((line, index) => ({ where: `instance log line ${index + 1}`, text: line }))
		];

		const started = performance.now();
		const hits = findLeaks(places, [...tokens, ...secrets]);
		const unreadDatabases = harvests.flatMap((harvest) =>
			'error' in harvest ? [`${harvest.database}: ${harvest.error}`] : []
		);
		console.log(
			`soak leak scan: ${tokens.size} tokens (${cookieTokens.size} from Set-Cookie, ${databaseTokens.size} from ` +
				`${harvests.length - unreadDatabases.length} databases), ${secrets.size} BETTER_AUTH_SECRET, ${responses.length} responses, ` +
				`${logLines.length} log lines of ${instances.length} instances; ${hits.length} hits (${Math.round(performance.now() - started)} ms)`
		);

		// The scan looked at real traffic: sessions were issued, bodies kept, instances logged.
		expect(cookieTokens.size, 'sessions issued by the soak files before this one').toBeGreaterThan(20);
		expect(responses.filter((response) => response.body).length).toBeGreaterThan(1000);
		expect(logLines.filter((line) => line.includes('"event":"session.')).length).toBeGreaterThan(20);
		// Cookie and database agree on what a token is, and the search finds each cookie token in
		// the one place it belongs, the session cookie's own value, which the scan leaves out.
		expect([...cookieTokens].some((token) => databaseTokens.has(token))).toBe(true);
		const ownCookies = setCookies.filter(({ text }) => isSessionCookie(text));
		expect([...cookieTokens].filter((token) => findLeaks(ownCookies, [token]).length === 0)).toEqual([]);
		// The scan's self-test on a real response: its token passes as the session cookie's own
		// value, and is caught when planted in another cookie's Set-Cookie line or in the session
		// cookie's attributes.
		const sample = plantedTokenSample(responses);
		expect(sample, 'a recorded response that sets a session cookie').not.toBeNull();
		expect(findLeaks(responsePlaces([sample!.original]), [sample!.token])).toEqual([]);
		expect(findLeaks(responsePlaces([sample!.planted]), [sample!.token])).toEqual(sample!.plantedLines);
		expect(unreadDatabases, 'every instance database was read for its tokens before it was dropped').toEqual([]);
		expect(hits).toEqual([]);
	});
});
