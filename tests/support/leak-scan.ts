/**
 * What the leak scans of the browser suite (tests/e2e/leak-scan.spec.ts) and of the soak suite
 * (tests/soak/leak-scan.test.ts) share: how a response is kept, where a session token sits in a
 * Set-Cookie line, the search itself, and its self-test.
 */

export interface RecordedResponse {
	url: string;
	status: number;
	/** All headers but Set-Cookie, which is kept line by line below. */
	headers: Record<string, string>;
	setCookies: string[];
	body: string | null;
}

/** Bodies worth keeping: pages, JSON and scripts, where a leaked token would be readable. */
export function isText(contentType: string | undefined | null): boolean {
	return !!contentType && /^(text\/|application\/(json|javascript))/.test(contentType);
}

const SESSION_COOKIE = /^((?:__Secure-|__Host-)?[\w-]+\.session_token=)([^;]*)/;

/** The token (the part before the signature) a Set-Cookie line gives for a session cookie, or null. */
export function sessionTokenOf(setCookieLine: string): string | null {
	const value = SESSION_COOKIE.exec(setCookieLine)?.[2];
	return (value ? decodeURIComponent(value).split('.')[0] : '') || null;
}

/** True for a Set-Cookie line of the session cookie itself: the one place its token belongs. */
export const isSessionCookie = (setCookieLine: string) => SESSION_COOKIE.test(setCookieLine);

/**
 * A Set-Cookie line as the scan searches it: the session cookie's own value left out, everything
 * else kept — its attributes, and every other cookie's line whole.
 */
export const withoutOwnSessionValue = (setCookieLine: string) => setCookieLine.replace(SESSION_COOKIE, '$1');

/** A text to search, and how to name it in a hit. */
export interface Place {
	where: string;
	text: string;
}

/** The bodies of recorded responses, their headers, and their Set-Cookie lines but for the session's own value. */
export function responsePlaces(responses: RecordedResponse[]): Place[] {
	return [
		...responses.map((response) => ({ where: `body of ${response.url}`, text: response.body ?? '' })),
		...responses.map((response) => ({ where: `headers of ${response.url}`, text: JSON.stringify(response.headers) })),
		...responses.flatMap((response) =>
			response.setCookies.map((line, index) => ({
				where: `Set-Cookie ${index + 1} of ${response.url}`,
				text: withoutOwnSessionValue(line)
			}))
		)
	];
}

/**
 * The scan's self-test: a recorded response that sets a session cookie, and the same response
 * with that session's token planted where it does not belong — in the Set-Cookie line of another
 * cookie and in the attributes of the session cookie's own line. The scan must find the token in
 * neither place of the first and in both planted lines of the second.
 */
export function plantedTokenSample(
	responses: RecordedResponse[]
): { token: string; original: RecordedResponse; planted: RecordedResponse; plantedLines: string[] } | null {
	const original = responses.find((response) => response.setCookies.some((line) => sessionTokenOf(line)));
	if (!original) return null;
	const ownLine = original.setCookies.find((line) => sessionTokenOf(line))!;
	const token = sessionTokenOf(ownLine)!;
	const setCookies = [...original.setCookies, `latchkey.planted=${token}; Path=/`, `${ownLine}; Planted=${token}`];
	const plantedLines = [setCookies.length - 1, setCookies.length].map(
		(number) => `Set-Cookie ${number} of ${original.url} contains ${token.slice(0, 6)}…`
	);
	return { token, original, planted: { ...original, setCookies }, plantedLines };
}

/**
 * Every place that contains one of `secrets`, as "<where> contains <first 6 characters>…".
 * Identical texts (the same page served many times) are searched once.
 */
export function findLeaks(places: Place[], secrets: string[]): string[] {
	const wheresByText = new Map<string, string[]>();
	for (const { where, text } of places) {
		const wheres = wheresByText.get(text);
		if (wheres) wheres.push(where);
		else wheresByText.set(text, [where]);
	}
	const hits: string[] = [];
	for (const [text, wheres] of wheresByText) {
		for (const secret of secrets) {
			if (text.includes(secret)) hits.push(...wheres.map((where) => `${where} contains ${secret.slice(0, 6)}…`));
		}
	}
	return hits;
}
