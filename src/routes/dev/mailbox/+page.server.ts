import { error } from '@sveltejs/kit';
import { getConfig } from '$lib/server/config';
import { devOutbox } from '$lib/server/mail';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ setHeaders }) => {
	const config = getConfig();
	if (config.production) error(404, 'Not found');
	setHeaders({ 'cache-control': 'no-store' });
	return {
		smtpConfigured: config.mail.smtpUrl !== null,
		messages: devOutbox
			.list()
			.map(({ id, to, subject, text, code, sentAt }) => ({ id, to, subject, text, code, sentAt }))
	};
};
