import { sessionCountFor, sessionIdsFor, userStateOf } from './support/database';
import { expect, test } from './support/fixtures';
import { FORM_ACTIONS, type Who } from './support/form-actions';
import { uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

const ACTIONS = FORM_ACTIONS.map((action) => action.path);

/** Better Auth's endpoints that sign in, end sessions or delete the user. */
const AUTH_POST_ENDPOINTS = [
	'/sign-in/email-otp',
	'/sign-out',
	'/revoke-session',
	'/revoke-sessions',
	'/revoke-other-sessions',
	'/delete-user'
].map((endpoint) => `/api/auth${endpoint}`);

test('a form posted from another site is refused by every action, and changes nothing', async ({ page }) => {
	const email = uniqueEmail('cross-site');
	await signInAs(page, email);
	const before = sessionCountFor(SMTP_APP, email);
	const foreign = { origin: 'https://evil.example', accept: 'text/html' };

	for (const action of ACTIONS) {
		const response = await page.request.post(action, {
			form: { email, code: '123456', provider: 'oidc', sessionId: 'x', confirm: 'yes' },
			headers: foreign
		});
		expect(response.status(), action).toBe(403);
	}
	// A form is refused by SvelteKit's origin check; JSON (which no browser sends cross-site
	// without CORS) reaches Latchkey, which does not serve these endpoints at all.
	for (const endpoint of AUTH_POST_ENDPOINTS) {
		const asForm = await page.request.post(endpoint, { form: { email, otp: '123456' }, headers: foreign });
		expect(asForm.status(), `${endpoint} as a form`).toBe(403);
		const asJson = await page.request.post(endpoint, { data: { email, otp: '123456' }, headers: foreign });
		expect(asJson.status(), `${endpoint} as JSON`).toBe(404);
	}
	console.log(
		`cross-site posts: ${ACTIONS.length} actions, all 403; ${AUTH_POST_ENDPOINTS.length} Better Auth endpoints, 403 as forms and 404 as JSON; sessions before ${before}, after ${sessionCountFor(SMTP_APP, email)}`
	);
	expect(sessionCountFor(SMTP_APP, email)).toBe(before);
	await page.goto('/account');
	await expect(page).toHaveURL('/account');
});

/** Every page, signed in. */
const PAGES = ['/', '/account', '/account/sessions', '/account/security', '/reauth', '/logout', '/login'];

/** Better Auth's endpoints that change state (POST only), sent a GET as a link or an <img> would: no Origin. */
const AUTH_ENDPOINTS = ['/sign-out', '/revoke-session', '/revoke-sessions', '/revoke-other-sessions', '/delete-user'];

/** Every form action's URL with the fields its form would post, as a link or an <img> would send them. */
function actionsAsLinks(who: Who): string[] {
	return FORM_ACTIONS.map(({ path, fields }) => {
		const query = new URLSearchParams(fields(who)).toString();
		return query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
	});
}

test('GET changes nothing anywhere: pages, form action URLs with their fields, Better Auth endpoints; only forms sign out or revoke', async ({
	page
}) => {
	const email = uniqueEmail('get-changes-nothing');
	await signInAs(page, email);
	const who = { email, sessionId: sessionIdsFor(SMTP_APP, email)[0]! };
	const before = userStateOf(SMTP_APP, email);
	expect(before.sessions).toHaveLength(1);

	const statuses: Array<{ url: string; status: number }> = [];
	for (const url of [...PAGES, ...actionsAsLinks(who), '/continue?redirectTo=%2Flogout']) {
		statuses.push({ url, status: (await page.goto(url))?.status() ?? 0 });
	}
	for (const endpoint of AUTH_ENDPOINTS) {
		const url = `/api/auth${endpoint}`;
		statuses.push({ url, status: (await page.request.get(url)).status() });
	}
	await page.goto('/logout');
	await expect(page.getByRole('heading', { name: 'Sign out' })).toBeVisible();
	const after = userStateOf(SMTP_APP, email);

	const serverErrors = statuses.filter(({ status }) => status >= 500 || status === 0);
	console.log(
		`GET changes nothing: ${statuses.length} URLs visited with GET (${PAGES.length} pages, ${FORM_ACTIONS.length} form action URLs with their fields, ${AUTH_ENDPOINTS.length} Better Auth endpoints, /continue): ` +
			`${statuses.map(({ url, status }) => `${url} ${status}`).join(', ')}; ${serverErrors.length} 5xx; ` +
			`sessions before ${before.sessions.length}, after ${after.sessions.length}; ` +
			`security events before ${before.securityEvents}, after ${after.securityEvents}`
	);
	expect(serverErrors).toEqual([]);
	expect(after).toEqual(before);
	await page.goto('/account');
	await expect(page).toHaveURL('/account');
});
