import { withAuth } from '$lib/server/auth/guards';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = () => {
	const { user } = withAuth();
	return { signedInAs: user?.email ?? null };
};
