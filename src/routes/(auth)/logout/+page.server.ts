import { redirect } from '@sveltejs/kit';
import { getSessionControl } from '$lib/server/auth';
import { signOutThisDevice } from '$lib/server/auth/devices';
import { actorOf, withAuth } from '$lib/server/auth/guards';
import { readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.session) redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const signedIn = withAuth(event);
		await readForm(event.request);
		if (signedIn.session) {
			await signOutThisDevice(getSessionControl(), actorOf(event, signedIn), event.request.headers);
		}
		redirect(303, '/login?signedOut');
	}
};
