import type { RequestEvent } from '@sveltejs/kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_ADDRESS_HEADER, stampClientAddress } from './client-address';

afterEach(() => {
	vi.restoreAllMocks();
});

/** What adapter-node throws behind ADDRESS_HEADER when the request lacks the header. */
const absent = () => {
	throw new Error('Address header was specified with ADDRESS_HEADER=x-forwarded-for but is absent from request');
};

function fakeEvent(path: string, getClientAddress: () => string, headers: Record<string, string> = {}): RequestEvent {
	const url = new URL(path, 'http://localhost:3000');
	return { url, request: new Request(url, { headers }), getClientAddress } as unknown as RequestEvent;
}

describe('stampClientAddress', () => {
	it('stamps the resolved address over whatever the client sent under the internal name', () => {
		const event = fakeEvent('/login', () => '198.51.100.7', { [CLIENT_ADDRESS_HEADER]: '10.0.0.1' });
		expect(stampClientAddress(event, 'X-Forwarded-For')).toBeNull();
		expect(event.request.headers.get(CLIENT_ADDRESS_HEADER)).toBe('198.51.100.7');
	});

	it('answers a plain, uncached 400 to a request without the header, with one log line naming it', async () => {
		const error = vi.spyOn(console, 'error').mockImplementation(() => {});
		const response = stampClientAddress(fakeEvent('/account', absent), 'X-Forwarded-For');

		expect(response?.status).toBe(400);
		expect(await response?.text()).toBe('Missing client address');
		expect(response?.headers.get('content-type')).toBe('text/plain; charset=utf-8');
		expect(response?.headers.get('cache-control')).toBe('no-store');
		expect(error).toHaveBeenCalledTimes(1);
		expect(error.mock.calls[0]![0]).toMatch(
			/^latchkey: refused a request without the client-address header X-Forwarded-For: /
		);
	});

	it('lets /healthz through without an address, and without its cookie so nothing later needs one', () => {
		const error = vi.spyOn(console, 'error').mockImplementation(() => {});
		const event = fakeEvent('/healthz', absent, {
			cookie: 'latchkey.session_token=abc.def',
			[CLIENT_ADDRESS_HEADER]: '10.0.0.1'
		});

		expect(stampClientAddress(event, 'X-Forwarded-For')).toBeNull();
		expect(event.request.headers.get('cookie')).toBeNull();
		expect(event.request.headers.get(CLIENT_ADDRESS_HEADER)).toBeNull();
		expect(error).not.toHaveBeenCalled();
	});

	it('refuses any other path that merely starts like /healthz', () => {
		vi.spyOn(console, 'error').mockImplementation(() => {});
		expect(stampClientAddress(fakeEvent('/healthz/x', absent), 'X-Forwarded-For')?.status).toBe(400);
		expect(stampClientAddress(fakeEvent('/healthzz', absent), 'X-Forwarded-For')?.status).toBe(400);
	});
});
