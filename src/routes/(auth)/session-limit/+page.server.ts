import { fail, redirect } from '@sveltejs/kit';
import { getSignOutLinkService } from '#lib/server/auth/server.ts';
import { refusedUser } from '#lib/server/auth/refused-sign-in.ts';
import { sendSignOutLink } from '#lib/server/auth/sign-out-link.ts';
import { getConfig } from '#lib/server/config.ts';
import { readForm } from '#lib/server/forms.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * Where a sign-in refused by the session limit lands (SESSION_LIMIT_ACTION=refuse): why, and a
 * button that mails the user a link to sign out every device. What it may do comes from the
 * browser's signed refused-sign-in cookie only, never from the URL.
 */
export const load: PageServerLoad = ({ locals, cookies, setHeaders }) => {
	if (locals.user) redirect(303, '/account/sessions');
	setHeaders({ 'cache-control': 'private, no-store' });
	const service = getSignOutLinkService();
	const refused = refusedUser(cookies, service.refusedCookie, service.codes.secret, service.codes.now()) !== null;
	return { refused, limit: getConfig().sessionLimit?.max ?? null };
};

export const actions: Actions = {
	sendLink: async (event) => {
		await readForm(event.request);
		const sent = await sendSignOutLink(getSignOutLinkService(), event.cookies, {
			ipAddress: event.getClientAddress(),
			userAgent: event.request.headers.get('user-agent')
		});
		if (sent.refusal) return fail(sent.refusal.status, { message: sent.refusal.message });
		return { sentTo: sent.sentTo };
	}
};
