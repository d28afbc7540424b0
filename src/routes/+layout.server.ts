import type { LayoutServerLoad } from './$types';

/** What every page may know about the visitor (the client auth state starts from it). Never the token. */
export const load: LayoutServerLoad = ({ locals: { user, session } }) => ({
	user: user ? { id: user.id, email: user.email } : null,
	session: session ? { id: session.id, expiresAt: session.expiresAt, policy: session.policy } : null
});
