import { redirect } from '@sveltejs/kit';
import { safeRedirectPath } from '#lib/server/auth/redirect-path.ts';
import type { PageServerLoad } from './$types';

/** Where an OAuth sign-in comes back to: redirectTo made the round trip through the provider, so it is checked again. */
export const load: PageServerLoad = ({ url }) => {
	redirect(303, safeRedirectPath(url.searchParams.get('redirectTo')));
};
