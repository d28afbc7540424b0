import type { RequestEvent } from '@sveltejs/kit';
import { safeErrorMessage } from '../errors';
import type { Auth } from './better-auth';
import type { SignInRefusal } from './otp-sign-in';
import type { ProviderButton } from './providers';

export interface OAuthStart {
	provider: string;
	rememberMe: boolean;
	/** Already sanitized; it is sanitized again when the visitor comes back. */
	redirectTo: string;
}

/**
 * Starts sign-in with an OAuth / OpenID Connect provider: Better Auth generates state, PKCE
 * verifier and nonce (kept in a signed cookie) and returns the provider's authorization URL.
 * Success comes back through /continue, failures through /login with `error`.
 */
export async function startOAuthSignIn(
	auth: Auth,
	buttons: ProviderButton[],
	event: RequestEvent,
	{ provider, rememberMe, redirectTo }: OAuthStart
): Promise<{ url: string } | SignInRefusal> {
	const button = buttons.find((candidate) => candidate.id === provider);
	if (!button) return { status: 404, message: 'That sign-in option is not available here.' };
	const back = encodeURIComponent(redirectTo);
	try {
		const { url } = await auth.api.signInSocial({
			body: {
				provider,
				callbackURL: `/continue?redirectTo=${back}`,
				errorCallbackURL: `/login?redirectTo=${back}`,
				additionalData: { rememberMe }
			},
			headers: event.request.headers
		});
		if (!url) throw new Error('no authorization URL');
		return { url };
	} catch (error) {
		console.error(`latchkey: could not start sign-in with ${provider}: ${safeErrorMessage(error)}`);
		// Not a 5xx: the fault is the provider's, and the visitor gets a page with a way forward.
		return {
			status: 400,
			message: `${button.label} cannot be reached right now. Try again later, or sign in with an email code.`
		};
	}
}

const MESSAGES: Record<string, string> = {
	access_denied: 'Sign-in was cancelled at the provider. Nothing was changed.',
	account_not_linked:
		'The provider did not confirm that this email address is verified, so it cannot sign in to the existing account with that address. Sign in with an email code instead.',
	email_not_found: 'The provider did not share an email address, which Latchkey needs to sign you in.',
	state_mismatch: 'That sign-in attempt expired or was already used. Please start again.',
	state_not_found: 'That sign-in attempt expired or was already used. Please start again.',
	invalid_state: 'That sign-in attempt expired or was already used. Please start again.',
	please_restart_the_process: 'That sign-in attempt expired or was already used. Please start again.',
	signup_disabled: 'There is no account for this identity.'
};

/** A readable sentence for the `error` Better Auth's OAuth callback puts on /login; never the raw description. */
export function oauthErrorMessage(code: string | null): string | null {
	if (!code) return null;
	return (
		MESSAGES[code] ?? 'The provider could not complete the sign-in. Please try again, or sign in with an email code.'
	);
}
