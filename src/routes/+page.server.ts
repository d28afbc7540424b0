import { withAuth } from '$lib/server/auth/guards';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
	const { user } = withAuth(event);
	return { signedInAs: user?.email ?? null };
};
