import { fail, redirect } from '@sveltejs/kit';
import { getSessionControl } from '$lib/server/auth';
import { deleteAccount } from '$lib/server/auth/devices';
import { actorOf, requireAuth, requireFreshAuth } from '$lib/server/auth/guards';
import { clearSessionCookie } from '$lib/server/auth/session-cookie';
import { getConfig } from '$lib/server/config';
import { readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
	const { user, session } = requireAuth(event);
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
		const config = getConfig();
		const signedIn = requireFreshAuth(event, config.reauthWindowSeconds);
		if ((await readForm(event.request))('confirm') !== 'yes') {
			return fail(400, { deleteAccount: { message: 'Tick the box to confirm that you want to delete your account.' } });
		}
		await deleteAccount(getSessionControl(), actorOf(event, signedIn));
		clearSessionCookie(event);
		redirect(303, '/login?accountDeleted');
	}
};
