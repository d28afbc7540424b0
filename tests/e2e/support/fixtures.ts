import { appendFileSync, mkdirSync } from 'node:fs';
import { test as base, type BrowserContext, type Response, type TestInfo } from '@playwright/test';
import { isText, type RecordedResponse } from '../../support/leak-scan';

export type { RecordedResponse };

/**
 * Every response the browser receives in these tests is written here, so that the leak scan
 * (leak-scan.spec.ts, run last) can look for session tokens where they must never be.
 */
export const TRAFFIC_DIR = '.tmp/e2e-traffic';

/** Starts recording a browser context's responses; returns a function that waits for the last writes. */
export function recordTraffic(context: BrowserContext, testInfo: TestInfo): () => Promise<void> {
	mkdirSync(TRAFFIC_DIR, { recursive: true });
	const file = `${TRAFFIC_DIR}/${testInfo.testId}-${Math.random().toString(36).slice(2)}.jsonl`;
	const writes: Promise<void>[] = [];
	context.on('response', (response) => writes.push(recordResponse(response, file)));
	return async () => {
		await Promise.allSettled(writes);
	};
}

async function recordResponse(response: Response, file: string): Promise<void> {
	const headers = await response.allHeaders();
	const { 'set-cookie': setCookie, ...rest } = headers;
	const entry: RecordedResponse = {
		url: response.url(),
		status: response.status(),
		headers: rest,
		setCookies: setCookie ? setCookie.split('\n') : [],
		body: isText(rest['content-type']) ? await response.text().catch(() => null) : null
	};
	appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Playwright's test, with every page's traffic recorded for the leak scan. */
export const test = base.extend<{ trafficRecorder: void }>({
	trafficRecorder: [
		async ({ context }, use, testInfo) => {
			const flush = recordTraffic(context, testInfo);
			await use();
			await flush();
		},
		{ auto: true }
	]
});

export { expect } from '@playwright/test';
