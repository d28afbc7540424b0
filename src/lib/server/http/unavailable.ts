import type { RequestEvent } from '@sveltejs/kit';
import type { Handle } from '@sveltejs/kit/hooks';
import { databaseFault } from '../errors';

/**
 * The answer when the database cannot be used now (locked, read-only, out of reach): a 503 that
 * says so, never a 500 and never the page served as signed out. It comes in the shape the
 * request expects, so SvelteKit's client shows the message instead of failing to parse it.
 */
export const RETRY_AFTER_SECONDS = '30';
export const UNAVAILABLE_MESSAGE = 'Latchkey is briefly unavailable. Please try again in a minute.';

/**
 * What the request reads an answer as: `data` for a client-side navigation's `__data.json`,
 * `action` for a form posted by `use:enhance`, `page` for a page load and a plain form post
 * (the browser shows whatever comes back).
 */
export type AnswerShape = 'page' | 'data' | 'action';

export function answerShape(event: Pick<RequestEvent, 'isDataRequest' | 'request'>): AnswerShape {
	if (event.isDataRequest) return 'data';
	if (event.request.method === 'POST' && event.request.headers.get('x-sveltekit-action') === 'true') return 'action';
	return 'page';
}

/**
 * The 503 in the request's shape. SvelteKit's client reads a failed `__data.json` as the error
 * itself (`{"message":…}`, App.Error) and an enhanced action's answer as an ActionResult
 * (`{"type":"error","error":{"message":…,"status":503}}`).
 */
export function serviceUnavailable(event: Pick<RequestEvent, 'isDataRequest' | 'request'>): Response {
	const headers = { 'retry-after': RETRY_AFTER_SECONDS, 'cache-control': 'no-store' };
	switch (answerShape(event)) {
		case 'data':
			return Response.json({ message: UNAVAILABLE_MESSAGE }, { status: 503, headers });
		case 'action':
			// SvelteKit 3's error page takes its status from the error itself (App.Error.status).
			return Response.json(
				{ type: 'error', error: { message: UNAVAILABLE_MESSAGE, status: 503 } },
				{ status: 503, headers }
			);
		case 'page':
			return new Response(UNAVAILABLE_PAGE, {
				status: 503,
				headers: { ...headers, 'content-type': 'text/html; charset=utf-8' }
			});
	}
}

const UNAVAILABLE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latchkey is unavailable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>Latchkey is briefly unavailable</h1><p>We cannot reach our database right now. Please try again in a minute.</p></body></html>`;

/**
 * A database fault wherever it shows up — a load, an action, a later handle — answers the 503.
 * A fault thrown past resolve is caught here; one SvelteKit caught (a load or an action) went
 * through handleError first, which logged it and marked the request (databaseUnavailable).
 */
export const databaseFaults: Handle = async ({ event, resolve }) => {
	let response: Response;
	try {
		response = await resolve(event);
	} catch (error) {
		const fault = databaseFault(error);
		if (!fault) throw error;
		logUnavailable(fault);
		return serviceUnavailable(event);
	}
	if (!event.locals.databaseUnavailable) return response;
	// An endpoint's own (non-HTML) answer keeps its body; only its status changes.
	if (answerShape(event) === 'page' && !response.headers.get('content-type')?.startsWith('text/html')) {
		const headers = new Headers(response.headers);
		headers.set('retry-after', RETRY_AFTER_SECONDS);
		return new Response(response.body, { status: 503, headers });
	}
	return serviceUnavailable(event);
};

/**
 * handleError's part: a database fault is logged with its cause, the request marked for
 * databaseFaults above, and the message the visitor sees is the unavailable one. Null for
 * any other error.
 */
export function databaseError(error: unknown, event: Pick<RequestEvent, 'locals'>): { message: string } | null {
	const fault = databaseFault(error);
	if (!fault) return null;
	logUnavailable(fault);
	event.locals.databaseUnavailable = true;
	return { message: UNAVAILABLE_MESSAGE };
}

function logUnavailable(fault: string): void {
	console.error(`latchkey: database unavailable: ${fault}`);
}
