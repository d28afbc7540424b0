import { requireAuth } from '$lib/server/auth/guards';
import type { LayoutServerLoad } from './$types';

// Guards page rendering only; every action in this group calls requireAuth itself.
export const load: LayoutServerLoad = (event) => {
	requireAuth(event);
};
