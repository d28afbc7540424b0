/**
 * What the leak scans of the browser suite (tests/e2e/leak-scan.spec.ts) and of the soak suite
 * (tests/soak/leak-scan.test.ts) share: how a response is kept, where a session token sits in a
 * Set-Cookie line, and the search itself.
 */

export interface RecordedResponse {
	url: string;
	status: number;
	/** All headers but Set-Cookie, which is where the session token belongs. */
	headers: Record<string, string>;
	setCookies: string[];
	body: string | null;
}

/** Bodies worth keeping: pages, JSON and scripts, where a leaked token would be readable. */
export function isText(contentType: string | undefined | null): boolean {
	return !!contentType && /^(text\/|application\/(json|javascript))/.test(contentType);
}

const SESSION_COOKIE = /^(?:__Host-|__Secure-)?[\w-]+\.session_token=([^;]*)/;

/** The token (the part before the signature) a Set-Cookie line gives for a session cookie, or null. */
export function sessionTokenOf(setCookieLine: string): string | null {
	const value = SESSION_COOKIE.exec(setCookieLine)?.[1];
	return (value ? decodeURIComponent(value).split('.')[0] : '') || null;
}

/** True for a Set-Cookie line of the session cookie itself: the one place its token belongs. */
export const isSessionCookie = (setCookieLine: string) => SESSION_COOKIE.test(setCookieLine);

/** A text to search, and how to name it in a hit. */
export interface Place {
	where: string;
	text: string;
}

/** The bodies of recorded responses and their headers (without Set-Cookie). */
export function responsePlaces(responses: RecordedResponse[]): Place[] {
	return [
		...responses.map((response) => ({ where: `body of ${response.url}`, text: response.body ?? '' })),
		...responses.map((response) => ({ where: `headers of ${response.url}`, text: JSON.stringify(response.headers) }))
	];
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
