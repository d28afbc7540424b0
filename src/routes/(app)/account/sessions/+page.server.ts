import { fail, redirect } from '@sveltejs/kit';
import {
	listSessions,
	revokeAllSessions,
	revokeCurrentSession,
	revokeOtherSessions,
	revokeOwnSession
} from '#lib/server/auth/sessions.ts';
import { requestActor, requireAuth, requireFreshAuth } from '#lib/server/auth/guards.ts';
import { clearSessionCookie } from '#lib/server/auth/cookies.ts';
import { readForm } from '#lib/server/forms.ts';
import { getConfig } from '#lib/server/config.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
	return {
		devices: await listSessions(requestActor(requireAuth())),
		now: new Date(),
		sessionLimit: getConfig().sessionLimit?.max ?? null
	};
};

/**
 * Ending another device's session needs a recent sign-in (ASVS V7.5.2): a stolen cookie alone
 * cannot sign the owner out of their other devices (requireFreshAuth). Signing out this device
 * stays immediate.
 */
export const actions: Actions = {
	revoke: async (event) => {
		const signedIn = requireAuth();
		const sessionId = (await readForm(event.request))('sessionId');
		if (!sessionId) return fail(400, { revoke: { message: 'Choose a session to revoke.' } });
		if (sessionId === signedIn.session.id) {
			await revokeCurrentSession(requestActor(signedIn));
			clearSessionCookie(event);
			redirect(303, '/login?signedOut');
		}
		const revoked = await revokeOwnSession(requestActor(requireFreshAuth()), sessionId);
		// Someone else's session id gets the same answer as one that never existed.
		if (!revoked) return fail(404, { revoke: { message: 'That session does not exist or has already ended.' } });
		return { done: `Signed out ${revoked.description}.` };
	},

	signOutOthers: async (event) => {
		const signedIn = requireFreshAuth();
		await readForm(event.request);
		const count = await revokeOtherSessions(requestActor(signedIn));
		return {
			done:
				count === 0 ? 'No other device was signed in.' : `Signed out ${count} other device${count === 1 ? '' : 's'}.`
		};
	},

	signOutEverywhere: async (event) => {
		const signedIn = requireFreshAuth();
		await readForm(event.request);
		await revokeAllSessions(requestActor(signedIn));
		clearSessionCookie(event);
		redirect(303, '/login?signedOutEverywhere');
	}
};
