import type { RequestEvent } from '@sveltejs/kit';
import type { Handle } from '@sveltejs/kit/hooks';
import { safeErrorMessage } from '../errors';

/** Internal header carrying the client address SvelteKit resolved; overwritten on every request. */
export const CLIENT_ADDRESS_HEADER = 'x-latchkey-client-address';

/** The one path served without a client address: probes may reach the instance around the proxy. */
export const HEALTH_PATH = '/healthz';

/**
 * adapter-node resolves the client address from the socket, or from ADDRESS_HEADER/XFF_DEPTH
 * when the operator configured a proxy. Better Auth reads addresses from headers only, so we
 * hand it SvelteKit's answer and overwrite whatever the client sent under that name.
 *
 * Behind ADDRESS_HEADER adapter-node throws for a request that lacks the header (a health
 * probe that skips the proxy, a misrouted request): such a request gets a plain 400 and one
 * log line naming the header, instead of an error page per handle that asks for the address.
 * /healthz needs no address and is served; its cookie, if a probe sends one, is dropped so
 * that no session handling asks for the address either. Returns the answer to send, or null
 * to go on.
 */
export function stampClientAddress(
	event: RequestEvent,
	addressHeader: string | undefined = process.env.ADDRESS_HEADER
): Response | null {
	let address: string;
	try {
		address = event.getClientAddress();
	} catch (error) {
		if (event.url.pathname === HEALTH_PATH) {
			event.request.headers.delete('cookie');
			event.request.headers.delete(CLIENT_ADDRESS_HEADER);
			return null;
		}
		console.error(
			`latchkey: refused a request without the client-address header ${addressHeader || '(none configured)'}: ${safeErrorMessage(error)}`
		);
		return missingClientAddress();
	}
	event.request.headers.set(CLIENT_ADDRESS_HEADER, address);
	return null;
}

function missingClientAddress(): Response {
	return new Response('Missing client address', {
		status: 400,
		headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }
	});
}

/** Behind ADDRESS_HEADER, a request without the header is refused with a 400 (never a 500). */
export const clientAddress: Handle = ({ event, resolve }) => stampClientAddress(event) ?? resolve(event);
