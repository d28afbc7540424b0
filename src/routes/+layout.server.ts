import type { LayoutServerLoad } from './$types';

/** What every page may know about the visitor. Never the session token. */
export const load: LayoutServerLoad = ({ locals }) => ({
	user: locals.user ? { id: locals.user.id, email: locals.user.email } : null
});
