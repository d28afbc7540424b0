import { fail, redirect } from '@sveltejs/kit';
import { getSignInService } from '#lib/server/auth/server.ts';
import { requireAuth } from '#lib/server/auth/guards.ts';
import { sendReauthenticationCode, verifyReauthenticationCode } from '#lib/server/auth/otp-sign-in.ts';
import { safeRedirectPath } from '#lib/server/auth/redirect-path.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * The re-authentication step of requireFreshAuth: a new code to the same address. Success
 * replaces this browser's session with a new one (new token), whose createdAt makes it fresh.
 */
export const load: PageServerLoad = (event) => {
	const { user } = requireAuth();
	return { email: user.email, redirectTo: safeRedirectPath(event.url.searchParams.get('redirectTo')) };
};

export const actions: Actions = {
	sendCode: async (event) => {
		const { user, session } = requireAuth();
		await readForm(event.request);
		const refusal = await sendReauthenticationCode(getSignInService(), event, {
			email: user.email,
			userId: user.id,
			sessionId: session.id
		});
		if (refusal) return fail(refusal.status, { message: refusal.message });
		return { codeSent: true };
	},

	verifyCode: async (event) => {
		const { user, session } = requireAuth();
		const field = await readForm(event.request);
		const refusal = await verifyReauthenticationCode(getSignInService(), event, {
			email: user.email,
			userId: user.id,
			sessionId: session.id,
			code: field('code').trim(),
			// The new session keeps the kind of the one it replaces: a browser-session cookie stays one.
			rememberMe: session.persistent && session.policy === 'remember-me'
		});
		if (refusal) return fail(refusal.status, { message: refusal.message, codeSent: true });
		redirect(303, safeRedirectPath(event.url.searchParams.get('redirectTo')));
	}
};
