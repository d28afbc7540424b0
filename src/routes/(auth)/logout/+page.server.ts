import { redirect } from '@sveltejs/kit';
import { getAuth } from '$lib/server/auth';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.session) redirect(303, '/login');
};

export const actions: Actions = {
	default: async ({ locals, request }) => {
		// Better Auth deletes the session row and clears the cookie (through sveltekitCookies).
		if (locals.session) await getAuth().api.signOut({ headers: request.headers });
		redirect(303, '/login?signedOut');
	}
};
