import { fail, redirect } from '@sveltejs/kit';
import { getAuth, getSignInService } from '#lib/server/auth/server.ts';
import { oauthErrorMessage, startOAuthSignIn } from '#lib/server/auth/oauth-sign-in.ts';
import { providerButtons } from '#lib/server/auth/providers.ts';
import { LIMIT_REFUSED, normalizeEmail, sendSignInCode, verifySignInCode } from '#lib/server/auth/otp-sign-in.ts';
import { SIGN_IN_REFUSED } from '#lib/server/auth/better-auth.ts';
import { safeRedirectPath } from '#lib/server/auth/redirect-path.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { endedMessage } from '#lib/server/auth/session-endings.ts';
import { getConfig } from '#lib/server/config.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url, cookies, setHeaders }) => {
	const redirectTo = safeRedirectPath(url.searchParams.get('redirectTo'));
	if (locals.user) redirect(303, redirectTo);
	// An OAuth sign-in the session limit refused: the page that explains reads the browser's own cookie.
	if (url.searchParams.get('error') === SIGN_IN_REFUSED) redirect(303, '/session-limit');
	const config = getConfig();
	let ended: string | null = null;
	if (locals.endedReason) {
		// Shown once: the cookie that proved the ending is cleared with this answer, so a reload
		// shows the plain page. The sentence is this browser's, never a shared cache's.
		ended = endedMessage(locals.endedReason);
		clearSessionCookie({ cookies });
		setHeaders({ 'cache-control': 'private, no-store' });
	}
	return {
		redirectTo,
		notice: ended ?? noticeFor(url.searchParams),
		oauthError: oauthErrorMessage(url.searchParams.get('error')),
		providers: providerButtons(config.oauth),
		rememberMeOffered: config.sessions.rememberMeOffered
	};
};

/**
 * What this browser just did itself, from the flag its own action's redirect set (the cookie is
 * already cleared). Why a session ended elsewhere never comes from the URL: only from the stored
 * reason a validly signed cookie leads to (locals.endedReason).
 */
function noticeFor(params: URLSearchParams): string | null {
	if (params.has('signedOut')) return 'You are signed out.';
	if (params.has('signedOutEverywhere')) return 'You are signed out on every device.';
	if (params.has('accountDeleted')) return 'Your account and all its sessions have been deleted.';
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
		if (refusal === LIMIT_REFUSED) redirect(303, '/session-limit');
		if (refusal) return fail(refusal.status, { verifyCode: { email, message: refusal.message } });
		redirect(303, safeRedirectPath(event.url.searchParams.get('redirectTo')));
	}
};
