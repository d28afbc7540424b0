import { appendFileSync, mkdirSync } from 'node:fs';
import {
	test as base,
	type APIRequestContext,
	type APIResponse,
	type Browser,
	type BrowserContext,
	type Response,
	type TestInfo
} from '@playwright/test';
import { isText, type RecordedResponse as ScannedResponse } from '../../support/leak-scan';

/**
 * Every response these tests receive — a page's, or an API request's (the `request` fixture,
 * `page.request`), in the test's own browser context or one it opens — is written here, so
 * that the leak scan (leak-scan.spec.ts, run last) can look for session tokens where they
 * must never be.
 */
export const TRAFFIC_DIR = '.tmp/e2e-traffic';

/** Where the test got the response: its own browser context, one it opened, or the `request` fixture. */
export type TrafficSource = 'test context' | 'opened context' | 'request fixture';

export interface RecordedResponse extends ScannedResponse {
	source: TrafficSource;
	/** A page's network response, or the answer to an API request made from the test. */
	via: 'page' | 'api';
}

type Recorded = Omit<RecordedResponse, 'source'>;
type Write = (entry: Recorded) => void;

/** Appends to a file of this recorder's own, named after the test. */
function trafficWriter(testInfo: TestInfo, source: TrafficSource): Write {
	mkdirSync(TRAFFIC_DIR, { recursive: true });
	const file = `${TRAFFIC_DIR}/${testInfo.testId}-${Math.random().toString(36).slice(2)}.jsonl`;
	return (entry) => appendFileSync(file, `${JSON.stringify({ source, ...entry })}\n`);
}

/**
 * Records a browser context: its pages' responses and its API requests (`context.request`,
 * which `page.request` is). Closing the context waits for the bodies still being read.
 */
function recordTraffic(context: BrowserContext, write: Write): () => Promise<void> {
	const writes: Promise<void>[] = [];
	context.on('response', (response) => writes.push(recordPageResponse(response, write)));
	recordApiResponses(context.request, write);
	const flush = async () => {
		await Promise.allSettled(writes);
	};
	const close = context.close.bind(context);
	context.close = async (options) => {
		await flush();
		await close(options);
	};
	return flush;
}

async function recordPageResponse(response: Response, write: Write): Promise<void> {
	const { 'set-cookie': setCookie, ...headers } = await response.allHeaders();
	write({
		via: 'page',
		url: response.url(),
		status: response.status(),
		headers,
		setCookies: setCookie ? setCookie.split('\n') : [],
		body: isText(headers['content-type']) ? await response.text().catch(() => null) : null
	});
}

const SENDING_METHODS = ['fetch', 'get', 'post', 'put', 'patch', 'delete', 'head'] as const;
type Send = (...args: unknown[]) => Promise<APIResponse>;

/**
 * Playwright has no event for API requests: each sending method of this request context is
 * wrapped to record its response, body included, before the test sees it. The shorthand
 * methods go through `fetch`, so a response is recorded once however it was sent.
 */
function recordApiResponses(requestContext: APIRequestContext, write: Write): void {
	const recorded = new WeakSet<APIResponse>();
	const methods = requestContext as unknown as Record<(typeof SENDING_METHODS)[number], Send>;
	for (const method of SENDING_METHODS) {
		const send = methods[method].bind(requestContext);
		methods[method] = async (...args) => {
			const response = await send(...args);
			if (!recorded.has(response)) {
				recorded.add(response);
				await recordApiResponse(response, write);
			}
			return response;
		};
	}
}

async function recordApiResponse(response: APIResponse, write: Write): Promise<void> {
	const all = response.headersArray();
	const headers = Object.fromEntries(
		all.filter(({ name }) => name.toLowerCase() !== 'set-cookie').map(({ name, value }) => [name.toLowerCase(), value])
	);
	write({
		via: 'api',
		url: response.url(),
		status: response.status(),
		headers,
		setCookies: all.filter(({ name }) => name.toLowerCase() === 'set-cookie').map(({ value }) => value),
		body: isText(headers['content-type']) ? await response.text().catch(() => null) : null
	});
}

/** Contexts the test opens itself (another device, a user agent of its choosing) are recorded like its own. */
function recordContextsOpenedBy(browser: Browser, testInfo: TestInfo, flushes: Array<() => Promise<void>>) {
	const newContext = browser.newContext;
	browser.newContext = async (options) => {
		const opened = await newContext.call(browser, options);
		flushes.push(recordTraffic(opened, trafficWriter(testInfo, 'opened context')));
		return opened;
	};
	return () => {
		browser.newContext = newContext;
	};
}

/** Playwright's test, with all the traffic of the test recorded for the leak scan. */
export const test = base.extend<{ trafficRecorder: void }>({
	request: async ({ request }, use, testInfo) => {
		recordApiResponses(request, trafficWriter(testInfo, 'request fixture'));
		await use(request);
	},
	trafficRecorder: [
		async ({ context, browser }, use, testInfo) => {
			const flushes = [recordTraffic(context, trafficWriter(testInfo, 'test context'))];
			const stopRecordingNewContexts = recordContextsOpenedBy(browser, testInfo, flushes);
			try {
				await use();
			} finally {
				stopRecordingNewContexts();
				await Promise.all(flushes.map((flush) => flush()));
			}
		},
		{ auto: true }
	]
});

export { expect } from '@playwright/test';
