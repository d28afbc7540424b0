import { dev } from '$app/env';
import { error } from '@sveltejs/kit';
import { getConfig } from '#lib/server/config.ts';
import { devOutbox } from '#lib/server/mail/index.ts';
import type { PageServerLoad } from './$types';

/** Only in the development server: a production build has no outbox, whatever its environment. */
export const load: PageServerLoad = ({ setHeaders }) => {
	if (!dev) error(404, 'Not found');
	const config = getConfig();
	setHeaders({ 'cache-control': 'no-store' });
	return {
		smtpConfigured: config.mail.smtpUrl !== null,
		messages: devOutbox
			.list()
			.map(({ id, to, subject, text, code, sentAt }) => ({ id, to, subject, text, code, sentAt }))
	};
};
