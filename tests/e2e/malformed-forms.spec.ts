import type { APIRequestContext } from '@playwright/test';
import { sessionIdsFor, userStateOf } from './support/database';
import { expect, test } from './support/fixtures';
import { AS_BROWSER, FORM_ACTIONS, formActionsInSource, type FormAction } from './support/form-actions';
import { uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

// Posts that no page of the app sends, to every form action, as a signed-in browser without
// JavaScript would: each must get a 4xx with a readable message and change nothing.

type PostOptions = NonNullable<Parameters<APIRequestContext['post']>[1]>;

interface Refusal {
	status: number;
	message: string;
}

interface MalformedPost {
	label: string;
	options: PostOptions;
	/** Null: a 4xx with one of the action's own refusals. */
	expected: Refusal | null;
}

const UNREADABLE: Refusal = {
	status: 400,
	message: 'The form could not be read. Please reload the page and try again.'
};
const TOO_LARGE: Refusal = {
	status: 413,
	message: 'That form is too large to send. Please reload the page and try again.'
};
const NOT_A_FORM: Refusal = { status: 415, message: UNREADABLE.message };

const LONG = 'x'.repeat(100 * 1024);
/** adapter-node's BODY_SIZE_LIMIT, which the test servers leave at its default, is 512 KB. */
const OVER_BODY_LIMIT = 'x'.repeat(600 * 1024);
const FILE = { name: 'payload.html', mimeType: 'text/html', buffer: Buffer.from('<script>alert(1)</script>') };

function without(fields: Record<string, string>, name: string): Record<string, string> {
	return Object.fromEntries(Object.entries(fields).filter(([key]) => key !== name));
}

function body(contentType: string, data: string): PostOptions {
	return { data, headers: { 'content-type': contentType } };
}

/** Each field spoiled in turn (missing, empty, a file, 100 KB), then bodies that are no usable form at all. */
function malformedPosts(fields: Record<string, string>): MalformedPost[] {
	const spoiled = Object.entries(fields).flatMap(([name, value]): MalformedPost[] => [
		{ label: `${name} missing`, options: { form: without(fields, name) }, expected: null },
		{ label: `${name} empty`, options: { form: { ...fields, [name]: '' } }, expected: null },
		{ label: `${name} a file`, options: { multipart: { ...without(fields, name), [name]: FILE } }, expected: null },
		{ label: `${name} 100 KB long`, options: { form: { ...fields, [name]: value + LONG } }, expected: null }
	]);
	const pairs = Object.entries(fields);
	// The first field twice; an action without fields gets one made up.
	const repeated =
		pairs.length > 0
			? [...pairs, pairs[0]!]
			: [
					['note', 'x'],
					['note', 'y']
				];
	const urlencoded = (entries: string[][]) => new URLSearchParams(entries).toString();
	return [
		...spoiled,
		{
			label: `${repeated[0]![0]} sent twice`,
			options: body('application/x-www-form-urlencoded', urlencoded(repeated)),
			expected: UNREADABLE
		},
		{ label: 'a text/plain body', options: body('text/plain', urlencoded(pairs)), expected: UNREADABLE },
		{
			label: 'multipart without parts',
			options: body('multipart/form-data; boundary=missing', '--broken\r\nnot really multipart'),
			expected: UNREADABLE
		},
		{ label: 'JSON', options: body('application/json', JSON.stringify(fields)), expected: NOT_A_FORM },
		{
			label: 'a body over BODY_SIZE_LIMIT',
			options: { form: { ...fields, padding: OVER_BODY_LIMIT } },
			expected: TOO_LARGE
		}
	];
}

function problemWith(action: FormAction, post: MalformedPost, status: number, html: string): string | null {
	const where = `${action.path} with ${post.label}: ${status}`;
	if (/\n\s+at \S|node_modules/.test(html)) return `${where}, with a stack trace`;
	if (post.expected) {
		const { status: wanted, message } = post.expected;
		return status === wanted && html.includes(message) ? null : `${where}, expected ${wanted} "${message}"`;
	}
	const refused = status >= 400 && status < 500 && action.refusals.some((message) => html.includes(message));
	return refused ? null : `${where}, expected a 4xx with one of ${JSON.stringify(action.refusals)}`;
}

function countBy<T>(items: T[], key: (item: T) => string): string {
	const counts = new Map<string, number>();
	for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
	return [...counts].map(([name, count]) => `${name}×${count}`).join(' ');
}

test('the list of form actions the malformed posts go to is every action in src/routes', () => {
	const inSource = formActionsInSource().sort();
	console.log(`form actions: ${inSource.length} in src/routes, ${FORM_ACTIONS.length} tested`);
	expect(FORM_ACTIONS.map((action) => action.path).sort()).toEqual(inSource);
});

test('malformed posts to every form action get a 4xx with a readable message and change nothing', async ({
	page,
	request
}) => {
	const email = uniqueEmail('malformed');
	await signInAs(page, email);
	const who = { email, sessionId: sessionIdsFor(SMTP_APP, email)[0]! };
	const before = userStateOf(SMTP_APP, email);

	const outcomes: Array<{ status: number; problem: string | null }> = [];
	for (const action of FORM_ACTIONS) {
		for (const post of malformedPosts(action.fields(who))) {
			// The sign-in page sends a signed-in visitor away, so its actions are posted signed out.
			const poster = action.signedIn ? page.request : request;
			const response = await poster.post(action.path, {
				...post.options,
				headers: { ...AS_BROWSER, ...post.options.headers },
				maxRedirects: 0
			});
			const status = response.status();
			outcomes.push({ status, problem: problemWith(action, post, status, await response.text()) });
		}
	}
	const after = userStateOf(SMTP_APP, email);

	const serverErrors = outcomes.filter(({ status }) => status >= 500).length;
	console.log(
		`malformed posts: ${outcomes.length} tried across ${FORM_ACTIONS.length} actions, ${serverErrors} 5xx; ` +
			`statuses ${countBy(outcomes, ({ status }) => String(status))}; ` +
			`user's sessions before ${before.sessions.length}, after ${after.sessions.length}; ` +
			`security events before ${before.securityEvents}, after ${after.securityEvents}`
	);
	expect(outcomes.flatMap(({ problem }) => (problem ? [problem] : []))).toEqual([]);
	expect(after).toEqual(before);
	await page.goto('/account');
	await expect(page).toHaveURL('/account');
});
