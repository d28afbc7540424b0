import { fail, redirect } from '@sveltejs/kit';
import { getSignInService } from '$lib/server/auth';
import { requireAuth } from '$lib/server/auth/guards';
import { sendSignInCode, verifySignInCode } from '$lib/server/auth/otp-sign-in';
import { safeRedirectPath } from '$lib/server/auth/redirect-path';
import { readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

/**
 * The re-authentication step of requireFreshAuth: a new code to the same address. Success
 * replaces this browser's session with a new one (new token), whose createdAt makes it fresh.
 */
export const load: PageServerLoad = (event) => {
	const { user } = requireAuth(event);
	return { email: user.email, redirectTo: safeRedirectPath(event.url.searchParams.get('redirectTo')) };
};

export const actions: Actions = {
	sendCode: async (event) => {
		const { user } = requireAuth(event);
		await readForm(event.request);
		const refusal = await sendSignInCode(getSignInService(), event, user.email);
		if (refusal) return fail(refusal.status, { message: refusal.message });
		return { codeSent: true };
	},

	verifyCode: async (event) => {
		const { user, session } = requireAuth(event);
		const field = await readForm(event.request);
		const refusal = await verifySignInCode(getSignInService(), event, {
			email: user.email,
			code: field('code').trim(),
			// The new session keeps the kind of the one it replaces: a browser-session cookie stays one.
			rememberMe: session.persistent && session.policy === 'remember-me',
			reauthenticate: true
		});
		if (refusal) return fail(refusal.status, { message: refusal.message, codeSent: true });
		redirect(303, safeRedirectPath(event.url.searchParams.get('redirectTo')));
	}
};
