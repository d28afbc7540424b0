import { requireAuth } from '$lib/server/auth/guards';
import type { PageServerLoad } from './$types';

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
