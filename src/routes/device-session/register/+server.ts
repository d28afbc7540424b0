import { error } from '@sveltejs/kit';
import { getDeviceBinding } from '#lib/server/auth/server.ts';
import type { RequestHandler } from './$types';

/** DBSC registration (device-binding.ts): only while DEVICE_BOUND_SESSIONS is on. */
export const POST: RequestHandler = (event) => {
	const binding = getDeviceBinding();
	if (!binding.enabled) error(404, 'Not found');
	return binding.register(event.request, event.locals.session, {
		ipAddress: event.getClientAddress(),
		userAgent: event.request.headers.get('user-agent')
	});
};
