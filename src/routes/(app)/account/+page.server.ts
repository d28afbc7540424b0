import { fail, redirect } from '@sveltejs/kit';
import { requestActor, requireAuth, requireFreshAuth } from '#lib/server/auth/guards.ts';
import { deleteAccount } from '#lib/server/auth/sessions.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => {
	const { user, session } = requireAuth();
	return {
		email: user.email,
		session: {
			createdAt: session.createdAt,
			expiresAt: session.expiresAt,
			ipAddress: session.ipAddress ?? null,
			userAgent: session.userAgent ?? null,
			policy: session.policy,
			idleSeconds: session.idleSeconds,
			absoluteExpiresAt: session.absoluteExpiresAt ?? null,
			persistent: session.persistent
		}
	};
};

export const actions: Actions = {
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
