import { optionalAuth } from '#lib/server/auth/guards.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = () => {
	const { user } = optionalAuth();
	return { signedInAs: user?.email ?? null };
};
