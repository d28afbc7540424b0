import { fail, redirect } from '@sveltejs/kit';
import { requestActor, requireAuth, requireFreshAuth } from '#lib/server/auth/guards.ts';
import { deleteAccount } from '#lib/server/auth/sessions.ts';
import { confirmEmailChange, requestEmailChange } from '#lib/server/auth/email-change.ts';
import { getEmailChangeService } from '#lib/server/auth/server.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { readForm } from '#lib/server/forms.ts';
import { describeDevice } from '#lib/server/user-agent.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
	const { user, session } = requireAuth();
	return {
		email: user.email,
		emailChanged: event.url.searchParams.has('emailChanged'),
		session: {
			createdAt: session.createdAt,
			expiresAt: session.expiresAt,
			ipAddress: session.ipAddress ?? null,
			device: describeDevice(session.userAgent),
			userAgent: session.userAgent ?? null,
			policy: session.policy,
			idleSeconds: session.idleSeconds,
			absoluteExpiresAt: session.absoluteExpiresAt ?? null,
			persistent: session.persistent
		}
	};
};

export const actions: Actions = {
	/** A code to the new address; a session that signed in too long ago confirms it is the owner first. */
	requestEmailChange: async (event) => {
		const signedIn = requireFreshAuth();
		const field = await readForm(event.request);
		const typed = field('email').trim();
		const who = { ...requestActor(signedIn), email: signedIn.user.email };
		const { refusal, email } = await requestEmailChange(getEmailChangeService(), who, typed);
		// A refused "send a new code" keeps the code form: the code already sent may still work.
		const codeSent = refusal === null || field('resend') === 'yes';
		if (refusal) return fail(refusal.status, { emailChange: { message: refusal.message, email: typed, codeSent } });
		return { emailChange: { message: null, email, codeSent } };
	},

	/**
	 * The code from the new address. Not held to the re-auth window: the code is bound to this
	 * session, which was fresh when it asked, and re-authenticating would replace the session and
	 * with it the code.
	 */
	confirmEmailChange: async (event) => {
		const signedIn = requireAuth();
		const field = await readForm(event.request);
		const email = field('email').trim();
		const refusal = await confirmEmailChange(
			getEmailChangeService(),
			{ ...requestActor(signedIn), email: signedIn.user.email },
			{ email, code: field('code').trim(), sessionToken: signedIn.session.token }
		);
		if (refusal) return fail(refusal.status, { emailChange: { message: refusal.message, email, codeSent: true } });
		redirect(303, '/account?emailChanged');
	},

	deleteAccount: async (event) => {
		const signedIn = requireFreshAuth();
		if ((await readForm(event.request))('confirm') !== 'yes') {
			return fail(400, { deleteAccount: { message: 'Tick the box to confirm that you want to delete your account.' } });
		}
		await deleteAccount(requestActor(signedIn));
		clearSessionCookie(event);
		redirect(303, '/login?accountDeleted');
	}
};
