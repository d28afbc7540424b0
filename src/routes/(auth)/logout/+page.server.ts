import { redirect } from '@sveltejs/kit';
import { signOutThisDevice } from '$lib/server/auth/account';
import { withAuth } from '$lib/server/auth/guards';
import { readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.session) redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const signedIn = withAuth();
		await readForm(event.request);
		if (signedIn.session) await signOutThisDevice(signedIn);
		redirect(303, '/login?signedOut');
	}
};
