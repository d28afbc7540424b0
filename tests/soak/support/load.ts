import { get } from './browser';
import type { Instance } from './instance';

/** One request of a steady load: the stage it started and ended in, what it got and how long it took. */
export interface Sample {
	startedIn: string;
	endedIn: string;
	path: string;
	/** 0 when the request failed without an answer (refused, reset, or aborted as hung). */
	status: number;
	body: string;
	ms: number;
}

export interface LoadOptions {
	/** Requests in flight at any time. */
	loops: number;
	paths: string[];
	/** A request still unanswered after this long is aborted and counted with status 0. */
	abortAfterMs: number;
	/** The test's current stage (e.g. "before", "down"), stamped on each sample. */
	stage: () => string;
}

export interface SteadyLoad {
	samples: Sample[];
	stop(): Promise<void>;
}

/** Signed-in GET requests, one after another in each of `loops` loops, cycling through cookies and paths. */
export function startSteadyLoad(instance: Instance, cookies: string[], options: LoadOptions): SteadyLoad {
	const samples: Sample[] = [];
	let running = true;
	let next = 0;
	const loop = async () => {
		while (running) {
			const turn = next++;
			const cookie = cookies[turn % cookies.length]!;
			const path = options.paths[turn % options.paths.length]!;
			samples.push(await timedRequest(instance, path, cookie, options));
		}
	};
	const loops = Array.from({ length: options.loops }, loop);
	return {
		samples,
		async stop() {
			running = false;
			await Promise.all(loops);
		}
	};
}

async function timedRequest(instance: Instance, path: string, cookie: string, options: LoadOptions): Promise<Sample> {
	const startedIn = options.stage();
	const started = performance.now();
	let status = 0;
	let body = '';
	try {
		const response = await get(instance, path, cookie, { signal: AbortSignal.timeout(options.abortAfterMs) });
		body = await response.text();
		status = response.status;
	} catch {
		// Counted as status 0: refused, reset, or hung past abortAfterMs.
	}
	return { startedIn, endedIn: options.stage(), path, status, body, ms: performance.now() - started };
}
