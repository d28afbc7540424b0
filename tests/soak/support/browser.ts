import { request } from 'node:http';
import type { Instance } from './instance';
import type { MailSink } from './mail';
import { recordResponse } from './recordings';

/** Every response these helpers receive is kept for the leak scan (leak-scan.test.ts). */
async function recorded(request: Promise<Response>): Promise<Response> {
	const response = await request;
	await recordResponse(response);
	return response;
}

export interface RequestOptions {
	/**
	 * The client's own address: any of 127.0.0.0/8, which the instance (listening on
	 * 127.0.0.1) sees as the socket's address, as it would see distinct clients.
	 */
	from?: string;
	/** Extra headers, e.g. a forged X-Forwarded-For. */
	headers?: Record<string, string>;
	/** Gives up on the request, e.g. AbortSignal.timeout(ms) for a bound on its latency. */
	signal?: AbortSignal;
}

/** What a browser without JavaScript sends: form posts with its Origin, and the session cookie. */
export async function post(
	instance: Instance,
	path: string,
	form: Record<string, string>,
	cookie = '',
	{ from, headers = {}, signal }: RequestOptions = {}
): Promise<Response> {
	const url = `${instance.origin}${path}`;
	const init = {
		method: 'POST',
		signal,
		headers: {
			origin: instance.origin,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded',
			...(cookie ? { cookie } : {}),
			...headers
		},
		body: new URLSearchParams(form).toString()
	};
	return recorded(from ? requestFrom(from, url, init) : fetch(url, { ...init, redirect: 'manual' }));
}

export async function get(
	instance: Instance,
	path: string,
	cookie = '',
	{ from, headers = {}, signal }: RequestOptions = {}
): Promise<Response> {
	const url = `${instance.origin}${path}`;
	const init = { method: 'GET', headers: { ...(cookie ? { cookie } : {}), ...headers }, signal };
	return recorded(from ? requestFrom(from, url, init) : fetch(url, { ...init, redirect: 'manual' }));
}

/** fetch cannot choose its local address; node:http can. Redirects are not followed, as with redirect: 'manual'. */
function requestFrom(
	localAddress: string,
	url: string,
	init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }
): Promise<Response> {
	return new Promise((resolve, reject) => {
		const { method, headers, signal } = init;
		const outgoing = request(url, { method, headers, signal, localAddress }, (incoming) => {
			const chunks: Buffer[] = [];
			incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
			incoming.on('error', reject);
			incoming.on('end', () => {
				const headers = new Headers();
				for (const [name, value] of Object.entries(incoming.headers)) {
					for (const one of [value ?? []].flat()) headers.append(name, one);
				}
				const status = incoming.statusCode ?? 0;
				const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
				resolve(new Response(body, { status, headers }));
			});
		});
		outgoing.on('error', reject);
		outgoing.end(init.body);
	});
}

/**
 * One browser's cookies: kept from the Set-Cookie lines of the responses it is given and sent
 * back whole, as a browser sends them (paths, expiry and SameSite do not matter to these tests).
 * The login form's code step needs it: a code works only with the pending-sign-in cookie that
 * its sendCode answer set.
 */
export class CookieJar {
	readonly #cookies = new Map<string, string>();

	/** The Cookie header this browser sends: empty when it holds none. */
	header(): string {
		return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
	}

	/** Keeps what `response` sets and drops what it deletes; returns the response. */
	keep(response: Response): Response {
		for (const line of response.headers.getSetCookie()) {
			const [pair = '', ...attributes] = line.split(';');
			const at = pair.indexOf('=');
			const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
			const expired = attributes.some((attribute) => /^\s*max-age\s*=\s*0\s*$/i.test(attribute));
			if (!name) continue;
			if (!value || expired) this.#cookies.delete(name);
			else this.#cookies.set(name, value);
		}
		return response;
	}
}

/** Signs in through the login form of `instance`; returns the session cookie as `name=value`. */
export async function signIn(instance: Instance, mail: MailSink, email: string): Promise<string> {
	const browser = new CookieJar();
	const sent = browser.keep(await post(instance, '/login?/sendCode', { email }));
	if (sent.status !== 200) throw new Error(`sending the code answered ${sent.status}`);
	const code = mail.latestCode(email);
	const verified = await post(instance, '/login?/verifyCode', { email, code }, browser.header());
	const cookie = verified.headers
		.getSetCookie()
		.map((line) => line.split(';')[0]!)
		.find((pair) => pair.startsWith('__Host-latchkey.session_token=') && !pair.endsWith('='));
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
