import type { RequestEvent } from '@sveltejs/kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	answerShape,
	databaseError,
	databaseFaults,
	RETRY_AFTER_SECONDS,
	serviceUnavailable,
	UNAVAILABLE_MESSAGE
} from './unavailable';

function request(init: { method?: string; headers?: Record<string, string>; isDataRequest?: boolean } = {}) {
	return {
		isDataRequest: init.isDataRequest ?? false,
		request: new Request('https://latchkey.example/account', {
			method: init.method ?? 'GET',
			headers: init.headers,
			body: init.method === 'POST' ? 'confirm=yes' : undefined
		}),
		locals: {} as App.Locals
	};
}

const PAGE = request();
const PLAIN_POST = request({ method: 'POST', headers: { accept: 'text/html' } });
const DATA = request({ isDataRequest: true });
const ENHANCED = request({ method: 'POST', headers: { accept: 'application/json', 'x-sveltekit-action': 'true' } });

/** A fault as the database drivers raise it (errors.ts reads the code). */
const databaseDown = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

afterEach(() => vi.restoreAllMocks());

describe('answerShape', () => {
	it.each([
		['a page load', PAGE, 'page'],
		['a plain form post', PLAIN_POST, 'page'],
		["a client-side navigation's __data.json", DATA, 'data'],
		['an enhanced form action', ENHANCED, 'action'],
		['a GET that claims to be an action', request({ headers: { 'x-sveltekit-action': 'true' } }), 'page']
	])('reads %s as %s', (_, event, shape) => {
		expect(answerShape(event)).toBe(shape);
	});
});

describe('serviceUnavailable', () => {
	it.each([PAGE, PLAIN_POST, DATA, ENHANCED])('is a 503 to retry later, never stored (%#)', (event) => {
		const answer = serviceUnavailable(event);
		expect(answer.status).toBe(503);
		expect(answer.headers.get('retry-after')).toBe(RETRY_AFTER_SECONDS);
		expect(answer.headers.get('cache-control')).toBe('no-store');
	});

	it('is the friendly page for a page load and a plain form post', async () => {
		for (const event of [PAGE, PLAIN_POST]) {
			const answer = serviceUnavailable(event);
			expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
			expect(await answer.text()).toContain('<h1>Latchkey is briefly unavailable</h1>');
		}
	});

	it("is the error itself for __data.json, as SvelteKit's client reads a failed data request", async () => {
		const answer = serviceUnavailable(DATA);
		expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
		expect(await answer.json()).toEqual({ message: UNAVAILABLE_MESSAGE });
	});

	it("is an error ActionResult for an enhanced action, as use:enhance's deserialize reads it", async () => {
		const answer = serviceUnavailable(ENHANCED);
		expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
		expect(await answer.json()).toEqual({ type: 'error', error: { message: UNAVAILABLE_MESSAGE, status: 503 } });
	});
});

describe('databaseFaults', () => {
	const event = (base: ReturnType<typeof request>) =>
		({ ...base, locals: {} as App.Locals }) as unknown as RequestEvent;

	it('answers a fault thrown past resolve with the 503 in the shape asked for, logging its cause', async () => {
		const log = vi.spyOn(console, 'error').mockImplementation(() => {});
		const answer = await databaseFaults({ event: event(DATA), resolve: () => Promise.reject(databaseDown()) });
		expect(answer.status).toBe(503);
		expect(await answer.json()).toEqual({ message: UNAVAILABLE_MESSAGE });
		expect(log).toHaveBeenCalledWith(expect.stringMatching(/^latchkey: database unavailable: /));
	});

	it('throws any other error on', async () => {
		const boom = new Error('a bug');
		await expect(databaseFaults({ event: event(PAGE), resolve: () => Promise.reject(boom) })).rejects.toBe(boom);
	});

	it('turns the answer to a request handleError marked into the 503', async () => {
		vi.spyOn(console, 'error').mockImplementation(() => {});
		for (const [base, type] of [
			[PAGE, 'text/html'],
			[DATA, 'application/json'],
			[ENHANCED, 'application/json']
		] as const) {
			const marked = event(base);
			const resolve = async () => {
				expect(databaseError(databaseDown(), marked)).toEqual({ message: UNAVAILABLE_MESSAGE });
				return new Response('rendered', { status: 500, headers: { 'content-type': 'text/html' } });
			};
			const answer = await databaseFaults({ event: marked, resolve });
			expect(answer.status).toBe(503);
			expect(answer.headers.get('content-type')).toMatch(new RegExp(`^${type}`));
		}
	});

	it("keeps an endpoint's own answer, with the status corrected", async () => {
		const marked = event(PAGE);
		marked.locals.databaseUnavailable = true;
		const answer = await databaseFaults({
			event: marked,
			resolve: async () => Response.json({ db: 'down' }, { status: 500 })
		});
		expect(answer.status).toBe(503);
		expect(answer.headers.get('retry-after')).toBe(RETRY_AFTER_SECONDS);
		expect(await answer.json()).toEqual({ db: 'down' });
	});

	it('passes every other answer through', async () => {
		const ok = new Response('page');
		expect(await databaseFaults({ event: event(PAGE), resolve: async () => ok })).toBe(ok);
	});
});

describe('databaseError', () => {
	it('is null for an error that is not a database fault', () => {
		const marked = request();
		expect(databaseError(new Error('a bug'), marked)).toBeNull();
		expect(marked.locals.databaseUnavailable).toBeUndefined();
	});
});
