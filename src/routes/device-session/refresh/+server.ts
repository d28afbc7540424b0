import { getDeviceBinding } from '#lib/server/auth/server.ts';
import type { RequestHandler } from './$types';

/**
 * DBSC refresh (device-binding.ts). Served whether DEVICE_BOUND_SESSIONS is on or off: a session
 * bound while it was on stays bound until it ends, and its browser keeps renewing its credential.
 */
export const POST: RequestHandler = (event) =>
	getDeviceBinding().refresh(event.request, {
		ipAddress: event.getClientAddress(),
		userAgent: event.request.headers.get('user-agent')
	});
