import { fail, redirect } from '@sveltejs/kit';
import { getAuth, getSignInService } from '#lib/server/auth/server.ts';
import { oauthErrorMessage, startOAuthSignIn } from '#lib/server/auth/oauth-sign-in.ts';
import { providerButtons } from '#lib/server/auth/providers.ts';
import { normalizeEmail, sendSignInCode, verifySignInCode } from '#lib/server/auth/otp-sign-in.ts';
import { safeRedirectPath } from '#lib/server/auth/redirect-path.ts';
import { getConfig } from '#lib/server/config.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	const redirectTo = safeRedirectPath(url.searchParams.get('redirectTo'));
	if (locals.user) redirect(303, redirectTo);
	const config = getConfig();
	return {
		redirectTo,
		notice: noticeFor(url.searchParams),
		oauthError: oauthErrorMessage(url.searchParams.get('error')),
		providers: providerButtons(config.oauth),
		rememberMeOffered: config.sessions.rememberMeOffered
	};
};

/** Why the visitor landed here, from the flag the redirect that brought them set. */
function noticeFor(params: URLSearchParams): string | null {
	if (params.has('signedOut')) return 'You are signed out.';
	if (params.has('signedOutEverywhere')) return 'You are signed out on every device.';
	if (params.has('accountDeleted')) return 'Your account and all its sessions have been deleted.';
	if (params.get('ended') === 'network') {
		return 'Your session ended because it was used from a new network. Please sign in again.';
	}
	return null;
}

export const actions: Actions = {
	sendCode: async (event) => {
		const field = await readForm(event.request);
		const email = normalizeEmail(field('email'));
		if (!email) {
			return fail(400, {
				sendCode: { email: field('email'), message: 'Enter a valid email address, like name@example.com.' }
			});
		}
		const refusal = await sendSignInCode(getSignInService(), event, email);
		if (refusal) return fail(refusal.status, { sendCode: { email, message: refusal.message } });
		return { codeSent: { email } };
	},

	oauth: async (event) => {
		const field = await readForm(event.request);
		const started = await startOAuthSignIn(getAuth(), providerButtons(getConfig().oauth), event, {
			provider: field('provider'),
			rememberMe: field('rememberMe') === 'on',
			redirectTo: safeRedirectPath(event.url.searchParams.get('redirectTo'))
		});
		if ('message' in started) return fail(started.status, { oauth: { message: started.message } });
		// The provider's authorization URL, built by Better Auth for a configured provider: never the
		// visitor's input. SvelteKit 3 refuses an external redirect unless it is allowed here.
		redirect(303, started.url, { external: true });
	},

	verifyCode: async (event) => {
		const field = await readForm(event.request);
		const email = normalizeEmail(field('email'));
		if (!email) return fail(400, { sendCode: { email: field('email'), message: 'Enter your email address first.' } });
		const refusal = await verifySignInCode(getSignInService(), event, {
			email,
			code: field('code').trim(),
			rememberMe: field('rememberMe') === 'on'
		});
		if (refusal) return fail(refusal.status, { verifyCode: { email, message: refusal.message } });
		redirect(303, safeRedirectPath(event.url.searchParams.get('redirectTo')));
	}
};
