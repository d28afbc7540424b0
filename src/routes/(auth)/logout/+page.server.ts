import { redirect } from '@sveltejs/kit';
import { revokeCurrentSession } from '#lib/server/auth/account.ts';
import { optionalAuth } from '#lib/server/auth/guards.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.session) redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const signedIn = optionalAuth();
		await readForm(event.request);
		if (signedIn.session) await revokeCurrentSession(signedIn);
		redirect(303, '/login?signedOut');
	}
};
