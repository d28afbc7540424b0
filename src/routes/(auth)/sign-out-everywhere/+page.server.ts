import { fail } from '@sveltejs/kit';
import { optionalAuth } from '#lib/server/auth/guards.ts';
import { getSignOutLinkService } from '#lib/server/auth/server.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { clearRefusedSignIn } from '#lib/server/auth/refused-sign-in.ts';
import { checkSignOutLink, signOutLinkFrom, useSignOutLink } from '#lib/server/auth/sign-out-link.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * The emailed link (sign-out-link.ts). Opening it changes nothing — mail scanners open links —
 * it asks to confirm; the confirmation, a POST, spends it and signs out every device of its user.
 */
export const load: PageServerLoad = async ({ url, setHeaders }) => {
	setHeaders({ 'cache-control': 'private, no-store' });
	const link = signOutLinkFrom((name) => url.searchParams.get(name));
	const problem = await checkSignOutLink(getSignOutLinkService(), link);
	return { link: problem ? null : link, problem: problem?.message ?? null };
};

export const actions: Actions = {
	confirm: async (event) => {
		const field = await readForm(event.request);
		const service = getSignOutLinkService();
		const link = signOutLinkFrom(field);
		const used = await useSignOutLink(service, link, {
			ipAddress: event.getClientAddress(),
			userAgent: event.request.headers.get('user-agent')
		});
		// A link that may still work (the devices could not be signed out just now) stays on the
		// page to try again: a form posted without JavaScript has left the link's URL behind.
		if (used.refusal)
			return fail(used.refusal.status, {
				message: used.refusal.message,
				link: used.refusal.status === 503 ? link : null
			});
		clearRefusedSignIn(event.cookies, service.refusedCookie);
		// This browser's own session, when it was the user's, ended with the others.
		if (optionalAuth(event).user?.id === link!.user) clearSessionCookie(event);
		return { signedOut: used.sessions };
	}
};
