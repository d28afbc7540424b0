import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTP_APP } from './servers';

/** A same-origin form post from a browser without JavaScript: SvelteKit answers with the page. */
export const AS_BROWSER = { origin: SMTP_APP.origin, accept: 'text/html' } as const;

/** What a test knows about the signed-in user, for fields that name them. */
export interface Who {
	email: string;
	sessionId: string;
}

export interface FormAction {
	/** The URL the form posts to. */
	path: string;
	signedIn: boolean;
	/** The fields the action needs, with values that would go through; none for actions without fields. */
	fields: (who: Who) => Record<string, string>;
	/** What the action answers when one of its fields is missing or bad. */
	refusals: string[];
}

const NO_FIELDS = () => ({});

/** Every form action in src/routes (formActionsInSource checks that none is missing). */
export const FORM_ACTIONS: FormAction[] = [
	{
		path: '/login?/sendCode',
		signedIn: false,
		fields: ({ email }) => ({ email }),
		refusals: ['Enter a valid email address, like name@example.com.']
	},
	{
		path: '/login?/verifyCode',
		signedIn: false,
		fields: ({ email }) => ({ email, code: '12345678' }),
		refusals: ['Enter your email address first.', 'Enter the code from the email: 8 digits.']
	},
	{
		path: '/login?/oauth',
		signedIn: false,
		fields: () => ({ provider: 'oidc' }),
		refusals: ['That sign-in option is not available here.']
	},
	{ path: '/logout', signedIn: true, fields: NO_FIELDS, refusals: [] },
	{ path: '/reauth?/sendCode', signedIn: true, fields: NO_FIELDS, refusals: [] },
	{
		path: '/reauth?/verifyCode',
		signedIn: true,
		fields: () => ({ code: '12345678' }),
		refusals: ['Enter the code from the email: 8 digits.']
	},
	{
		path: '/account?/deleteAccount',
		signedIn: true,
		fields: () => ({ confirm: 'yes' }),
		refusals: ['Tick the box to confirm that you want to delete your account.']
	},
	{
		path: '/account?/requestEmailChange',
		signedIn: true,
		fields: ({ email }) => ({ email: `new-${email}` }),
		refusals: ['Enter the new email address in full, like name@example.com.']
	},
	{
		path: '/account?/confirmEmailChange',
		signedIn: true,
		fields: ({ email }) => ({ email: `new-${email}`, code: '12345678' }),
		refusals: [
			'Enter the new email address in full, like name@example.com.',
			'Enter the code from the email: 8 digits.'
		]
	},
	{
		path: '/account/sessions?/revoke',
		signedIn: true,
		fields: ({ sessionId }) => ({ sessionId }),
		refusals: ['Choose a session to revoke.', 'That session does not exist or has already ended.']
	},
	{ path: '/account/sessions?/signOutOthers', signedIn: true, fields: NO_FIELDS, refusals: [] },
	{ path: '/account/sessions?/signOutEverywhere', signedIn: true, fields: NO_FIELDS, refusals: [] },
	{ path: '/session?/extend', signedIn: true, fields: NO_FIELDS, refusals: [] },
	{
		path: '/session-limit?/sendLink',
		signedIn: false,
		fields: NO_FIELDS,
		refusals: ['This browser has no refused sign-in to act on any more.']
	},
	{
		path: '/sign-out-everywhere?/confirm',
		signedIn: false,
		fields: () => ({ user: 'someone', token: 'x'.repeat(43) }),
		refusals: ['This link is not valid: it has been used, replaced by a newer one, or mistyped.']
	}
];

const ROUTES = 'src/routes';

/** The action URLs the page servers under src/routes declare, read from their `actions` objects. */
export function formActionsInSource(): string[] {
	return readdirSync(ROUTES, { recursive: true, encoding: 'utf8' })
		.filter((file) => file.endsWith('+page.server.ts'))
		.flatMap((file) => {
			const source = readFileSync(join(ROUTES, file), 'utf8');
			const actions = source.split('export const actions')[1];
			if (!actions) return [];
			// Route groups such as (auth) are not part of the URL.
			const route = `/${file.replace(/\/?\+page\.server\.ts$/, '')}`.replace(/\/\([^)]+\)/g, '') || '/';
			return [...actions.matchAll(/^\t(\w+): async/gm)].map(([, name]) =>
				name === 'default' ? route : `${route}?/${name}`
			);
		});
}
