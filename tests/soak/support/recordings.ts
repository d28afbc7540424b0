import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isText, type RecordedResponse } from '../../support/leak-scan';

/**
 * What the soak files leave for the leak scan (leak-scan.test.ts, run after them): every response
 * the HTTP helpers received, every instance's output and secret, and the session tokens found in
 * each instance's database when it stopped (the test drops the database afterwards). Cleared at
 * the start of each soak run by global-setup.ts.
 */
export const RECORDINGS_DIR = '.tmp/soak';
const RESPONSES_DIR = join(RECORDINGS_DIR, 'responses');
const LOGS_DIR = join(RECORDINGS_DIR, 'logs');
const INSTANCES_FILE = join(RECORDINGS_DIR, 'instances.jsonl');
const TOKENS_FILE = join(RECORDINGS_DIR, 'tokens.jsonl');

export interface RecordedInstance {
	origin: string;
	secret: string;
	logFile: string;
}

/** The session tokens in one instance's database when it stopped, or why they could not be read. */
export type Harvest = { database: string; tokens: string[] } | { database: string; error: string };

export function clearRecordings(): void {
	rmSync(RECORDINGS_DIR, { recursive: true, force: true });
	mkdirSync(RESPONSES_DIR, { recursive: true });
	mkdirSync(LOGS_DIR, { recursive: true });
}

function appendLine(file: string, entry: unknown): void {
	mkdirSync(join(file, '..'), { recursive: true });
	appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Keeps a copy of `response`; the caller still reads the original's body. */
export async function recordResponse(response: Response): Promise<void> {
	const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'set-cookie'));
	const entry: RecordedResponse = {
		url: response.url,
		status: response.status,
		headers,
		setCookies: response.headers.getSetCookie(),
		body: isText(response.headers.get('content-type')) ? await response.clone().text() : null
	};
	appendLine(join(RESPONSES_DIR, `${process.pid}.jsonl`), entry);
}

/** Registers a starting instance; returns the file its output goes to. */
export function recordInstance(origin: string, secret: string): string {
	const logFile = join(LOGS_DIR, `${new URL(origin).port}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.log`);
	mkdirSync(LOGS_DIR, { recursive: true });
	appendLine(INSTANCES_FILE, { origin, secret, logFile } satisfies RecordedInstance);
	return logFile;
}

export function recordHarvest(harvest: Harvest): void {
	appendLine(TOKENS_FILE, harvest);
}

function readLines<T>(file: string): T[] {
	if (!existsSync(file)) return [];
	return readFileSync(file, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line) as T);
}

export function recordedResponses(): RecordedResponse[] {
	if (!existsSync(RESPONSES_DIR)) return [];
	return readdirSync(RESPONSES_DIR).flatMap((file) => readLines<RecordedResponse>(join(RESPONSES_DIR, file)));
}

export const recordedInstances = (): RecordedInstance[] => readLines<RecordedInstance>(INSTANCES_FILE);

export const recordedHarvests = (): Harvest[] => readLines<Harvest>(TOKENS_FILE);
