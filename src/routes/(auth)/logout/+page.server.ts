import { redirect } from '@sveltejs/kit';
import { optionalAuth, requestActor } from '#lib/server/auth/guards.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { revokeCurrentSession } from '#lib/server/auth/sessions.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.session) redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const signedIn = optionalAuth();
		await readForm(event.request);
		if (signedIn.session) {
			await revokeCurrentSession(requestActor(signedIn));
			clearSessionCookie(event);
		}
		redirect(303, '/login?signedOut');
	}
};
