import type { Instance } from './instance';
import type { MailSink } from './mail';
import { recordResponse } from './recordings';

/** Every response these helpers receive is kept for the leak scan (leak-scan.test.ts). */
async function recorded(request: Promise<Response>): Promise<Response> {
	const response = await request;
	await recordResponse(response);
	return response;
}

/** What a browser without JavaScript sends: form posts with its Origin, and the session cookie. */
export async function post(
	instance: Instance,
	path: string,
	form: Record<string, string>,
	cookie = ''
): Promise<Response> {
	return recorded(
		fetch(`${instance.origin}${path}`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: instance.origin,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				...(cookie ? { cookie } : {})
			},
			body: new URLSearchParams(form)
		})
	);
}

export async function get(instance: Instance, path: string, cookie = '', signal?: AbortSignal): Promise<Response> {
	return recorded(
		fetch(`${instance.origin}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal })
	);
}

/** Signs in through the login form of `instance`; returns the session cookie as `name=value`. */
export async function signIn(instance: Instance, mail: MailSink, email: string): Promise<string> {
	const sent = await post(instance, '/login?/sendCode', { email });
	if (sent.status !== 200) throw new Error(`sending the code answered ${sent.status}`);
	const verified = await post(instance, '/login?/verifyCode', { email, code: mail.latestCode(email) });
	const cookie = verified.headers
		.getSetCookie()
		.map((line) => line.split(';')[0]!)
		.find((pair) => pair.startsWith('__Secure-latchkey.session_token=') && !pair.endsWith('='));
	if (verified.status !== 303 || !cookie) throw new Error(`sign-in answered ${verified.status}`);
	return cookie;
}

/** True when `path` renders for this cookie, false when the instance sends it to sign in. */
export async function isSignedIn(instance: Instance, cookie: string, path = '/account'): Promise<boolean> {
	const response = await get(instance, path, cookie);
	if (response.status === 200) return true;
	if (response.status === 303 && response.headers.get('location')?.startsWith('/login')) return false;
	throw new Error(`${path} answered ${response.status}`);
}
