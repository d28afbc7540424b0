import { redirect } from '@sveltejs/kit';
import { loginUrl, requireAuth } from '#lib/server/auth/guards.ts';
import { sessionValidator, writeSessionCookie } from '#lib/server/auth/handles.ts';
import { safeRedirectPath } from '#lib/server/auth/redirect-path.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

/** The route exists for its action; a visit has nothing to see here and goes to the account page. */
export const load: PageServerLoad = () => {
	redirect(303, '/account');
};

export const actions: Actions = {
	/**
	 * "Stay signed in" on the idle warning: slides the session now, whatever its refresh interval
	 * says, and goes back to the page (`redirectTo` in the URL, as sign-in takes it), so that it
	 * works as a plain form post too. The validator checks the cookie itself again rather than
	 * trust the hook's verdict: signature, row, absolute lifetime, idle end.
	 */
	extend: async (event) => {
		await readForm(event.request);
		requireAuth(event);
		const back = safeRedirectPath(event.url.searchParams.get('redirectTo'));
		const extended = await sessionValidator().extendSessionCookie(event.request.headers.get('cookie'));
		writeSessionCookie(event, extended.cookie);
		event.locals.user = extended.user;
		event.locals.session = extended.session;
		if (!extended.session) redirect(303, loginUrl(new URL(back, event.url)));
		redirect(303, back);
	}
};
