import { getRequestEvent } from '$app/server';
import * as devices from './devices';
import type { Device } from './devices';
import { actorOf, type SignedIn } from './guards';
import { getSessionControl } from './index';

/**
 * What a signed-in visitor does with their own sessions and account, from a page's load or
 * action: `listDevices(requireAuth())`. Each takes the SignedIn that requireAuth or
 * requireFreshAuth returned, so an action cannot skip its own session check, and fills in
 * what devices.ts needs from this process (getSessionControl) and the current request (the
 * actor's address and user agent). devices.ts keeps the forms that take them explicitly.
 */
export function listDevices(signedIn: SignedIn): Promise<Device[]> {
	return devices.listDevices(getSessionControl(), actorOf(signedIn));
}

/** Ends one of the visitor's own sessions; null when there is no such session of theirs. */
export function revokeDevice(signedIn: SignedIn, sessionId: string): Promise<Device | null> {
	return devices.revokeDevice(getSessionControl(), actorOf(signedIn), sessionId);
}

/** Signs this browser out: its session ends, and Better Auth's sign-out clears its cookies. */
export function signOutThisDevice(signedIn: SignedIn): Promise<void> {
	return devices.signOutThisDevice(getSessionControl(), actorOf(signedIn), getRequestEvent().request.headers);
}

/** Ends every other session of the visitor; returns how many. */
export function signOutOtherDevices(signedIn: SignedIn): Promise<number> {
	return devices.signOutOtherDevices(getSessionControl(), actorOf(signedIn));
}

/** Ends every session of the visitor, this one included; returns how many. */
export function signOutEverywhere(signedIn: SignedIn): Promise<number> {
	return devices.signOutEverywhere(getSessionControl(), actorOf(signedIn));
}

/** Deletes the visitor's account with all its sessions. */
export function deleteAccount(signedIn: SignedIn): Promise<void> {
	return devices.deleteAccount(getSessionControl(), actorOf(signedIn));
}
