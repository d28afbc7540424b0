import type { Handle } from '@sveltejs/kit/hooks';
import { getConfig } from '../config';

/** Headers every response carries; the Content-Security-Policy comes from the SvelteKit configuration in vite.config.ts. */
export const securityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	response.headers.set('x-content-type-options', 'nosniff');
	response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
	response.headers.set('x-frame-options', 'DENY');
	if (getConfig().origin.startsWith('https:')) {
		response.headers.set('strict-transport-security', 'max-age=63072000; includeSubDomains');
	}
	return response;
};
