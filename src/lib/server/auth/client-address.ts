import type { RequestEvent } from '@sveltejs/kit';

/** Internal header carrying the client address SvelteKit resolved; overwritten on every request. */
export const CLIENT_ADDRESS_HEADER = 'x-latchkey-client-address';

/**
 * adapter-node resolves the client address from the socket, or from ADDRESS_HEADER/XFF_DEPTH
 * when the operator configured a proxy. Better Auth reads addresses from headers only, so we
 * hand it SvelteKit's answer and overwrite whatever the client sent under that name.
 */
export function stampClientAddress(event: RequestEvent): void {
	event.request.headers.set(CLIENT_ADDRESS_HEADER, event.getClientAddress());
}
