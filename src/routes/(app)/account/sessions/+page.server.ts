import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { getSessionControl } from '$lib/server/auth';
import {
	listDevices,
	revokeDevice,
	signOutEverywhere,
	signOutOtherDevices,
	signOutThisDevice
} from '$lib/server/auth/devices';
import { actorOf, requireAuth, requireFreshAuth } from '$lib/server/auth/guards';
import { clearSessionCookie } from '$lib/server/auth/session-cookie';
import { getConfig } from '$lib/server/config';
import { readForm } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const signedIn = requireAuth(event);
	return { devices: await listDevices(getSessionControl(), actorOf(event, signedIn)), now: new Date() };
};

/**
 * Ending another device's session needs a recent sign-in (ASVS V7.5.2): a stolen cookie alone
 * cannot sign the owner out of their other devices. Signing out this device stays immediate.
 */
function requireRecentSignIn(event: RequestEvent) {
	return requireFreshAuth(event, getConfig().reauthWindowSeconds);
}

export const actions: Actions = {
	revoke: async (event) => {
		const signedIn = requireAuth(event);
		const sessionId = (await readForm(event.request))('sessionId');
		if (!sessionId) return fail(400, { revoke: { message: 'Choose a session to revoke.' } });
		const actor = actorOf(event, signedIn);
		if (sessionId === actor.sessionId) {
			await signOutThisDevice(getSessionControl(), actor, event.request.headers);
			redirect(303, '/login?signedOut');
		}
		requireRecentSignIn(event);
		const revoked = await revokeDevice(getSessionControl(), actor, sessionId);
		// Someone else's session id gets the same answer as one that never existed.
		if (!revoked) return fail(404, { revoke: { message: 'That session does not exist or has already ended.' } });
		return { done: `Signed out ${revoked.description}.` };
	},

	signOutOthers: async (event) => {
		const signedIn = requireRecentSignIn(event);
		await readForm(event.request);
		const count = await signOutOtherDevices(getSessionControl(), actorOf(event, signedIn));
		return {
			done:
				count === 0 ? 'No other device was signed in.' : `Signed out ${count} other device${count === 1 ? '' : 's'}.`
		};
	},

	signOutEverywhere: async (event) => {
		const signedIn = requireRecentSignIn(event);
		await readForm(event.request);
		await signOutEverywhere(getSessionControl(), actorOf(event, signedIn));
		clearSessionCookie(event);
		redirect(303, '/login?signedOutEverywhere');
	}
};
