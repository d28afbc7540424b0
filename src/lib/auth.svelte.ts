import { applyAction, deserialize } from '$app/forms';
import { invalidateAll } from '$app/navigation';
import { resolve } from '$app/paths';
import { getContext, setContext } from 'svelte';

export interface ClientUser {
	id: string;
	email: string;
}

export interface ClientSession {
	id: string;
	expiresAt: Date;
	policy: string;
}

/** The browser's view of who is signed in: the Svelte counterpart of the seed's `useAuth()`. */
export interface AuthState {
	readonly user: ClientUser | null;
	readonly session: ClientSession | null;
	signOut(): Promise<void>;
}

const KEY = Symbol('latchkey auth');

/**
 * Called once by the root layout with a getter over its server data, so the state is right in
 * the first server-rendered HTML (no flash of signed-out content) and follows every navigation.
 */
export function provideAuth(read: () => { user: ClientUser | null; session: ClientSession | null }): AuthState {
	const state: AuthState = {
		get user() {
			return read().user;
		},
		get session() {
			return read().session;
		},
		signOut
	};
	setContext(KEY, state);
	return state;
}

export function useAuth(): AuthState {
	const state = getContext<AuthState | undefined>(KEY);
	if (!state) throw new Error('useAuth() is only available below the root layout');
	return state;
}

/** Posts the sign-out form action, as the sign-out form does, and follows where it redirects. */
async function signOut(): Promise<void> {
	const response = await fetch(resolve('logout'), {
		method: 'POST',
		headers: { 'x-sveltekit-action': 'true' },
		body: new FormData()
	});
	await applyAction(deserialize(await response.text()));
}

/**
 * Another tab may have signed out (or in) meanwhile: when this tab comes back into view,
 * reload the server data, so it shows the truth — and a protected page redirects to sign-in.
 * Returns the cleanup for $effect.
 */
export function refreshWhenVisible(): () => void {
	const refresh = () => {
		if (document.visibilityState === 'visible') void invalidateAll();
	};
	window.addEventListener('focus', refresh);
	document.addEventListener('visibilitychange', refresh);
	return () => {
		window.removeEventListener('focus', refresh);
		document.removeEventListener('visibilitychange', refresh);
	};
}
