import { CLIENT_ADDRESS_HEADER } from '../../../src/lib/server/http/client-address';
import { REFRESH_PATH, REGISTRATION_PATH } from '../../../src/lib/server/auth/device-binding';
import type { TestApp, Visitor } from './app';

/**
 * A browser that follows the DBSC draft as Chrome does, for the integration tests: it keeps
 * cookies with their Max-Age on the test's clock, registers on a `Secure-Session-Registration`
 * invitation with a key made by Web Crypto (P-256 for ES256, RSA for RS256), and before a
 * request that lacks the bound credential it refreshes: a request without a proof, the 403's
 * `Secure-Session-Challenge`, a proof over that challenge. Its endpoints are the app's
 * device-binding functions, called as the routes call them; no HTTP server.
 */
export class DbscBrowser {
	readonly #jar = new Map<string, { value: string; expiresAt: number | null }>();
	keys: CryptoKeyPair | null = null;
	algorithm: 'ES256' | 'RS256' = 'ES256';
	sessionId: string | null = null;
	credentialName: string | null = null;
	/** Every refresh request this browser sent, with the status it got. */
	readonly refreshes: number[] = [];

	constructor(
		readonly app: TestApp,
		readonly visitor: Visitor
	) {}

	now(): number {
		return this.app.clock!();
	}

	/** The Cookie header this browser sends now: expired cookies are gone. */
	cookieHeader(): string {
		const now = this.now();
		return [...this.#jar]
			.filter(([, cookie]) => cookie.expiresAt === null || cookie.expiresAt > now)
			.map(([name, cookie]) => `${name}=${cookie.value}`)
			.join('; ');
	}

	/** Stores the cookies of Set-Cookie lines, as a browser would. */
	storeCookies(lines: string[]): void {
		for (const line of lines) {
			const [pair, ...attributes] = line.split(';').map((part) => part.trim());
			const eq = pair!.indexOf('=');
			const maxAge = attributes.find((attribute) => /^max-age=/i.test(attribute));
			const seconds = maxAge ? Number(maxAge.split('=')[1]) : null;
			this.#jar.set(pair!.slice(0, eq), {
				value: pair!.slice(eq + 1),
				expiresAt: seconds === null ? null : this.now() + seconds * 1000
			});
		}
	}

	hasCookie(name: string): boolean {
		return this.cookieHeader()
			.split('; ')
			.some((pair) => pair.startsWith(`${name}=`));
	}

	/** The cookie as this browser holds it, `name=value`, expired or not. */
	cookie(name: string): string {
		return `${name}=${this.#jar.get(name)!.value}`;
	}

	setCookie(name: string, value: string, expiresAt: number | null = null): void {
		this.#jar.set(name, { value, expiresAt });
	}

	request(path: string, headers: Record<string, string> = {}): Request {
		return new Request(`${this.app.origin}${path}`, {
			method: 'POST',
			headers: {
				origin: this.app.origin,
				'user-agent': this.visitor.userAgent,
				[CLIENT_ADDRESS_HEADER]: this.visitor.address,
				cookie: this.cookieHeader(),
				...headers
			}
		});
	}

	get client() {
		return { ipAddress: this.visitor.address, userAgent: this.visitor.userAgent };
	}

	/**
	 * Answers a `Secure-Session-Registration` header: makes a key for the first algorithm offered
	 * that it has, signs the challenge, posts the proof to the path. Returns the response.
	 */
	async register(invitation: string, { algorithm }: { algorithm?: 'ES256' | 'RS256' } = {}): Promise<Response> {
		const { algorithms, path, challenge } = parseRegistration(invitation);
		this.algorithm = algorithm ?? (algorithms[0] as 'ES256' | 'RS256');
		if (!algorithms.includes(this.algorithm)) throw new Error(`${this.algorithm} is not offered: ${invitation}`);
		this.keys = await generateKeys(this.algorithm);
		const proof = await this.proof(challenge, `${this.app.origin}${path}`, { withKey: true });
		const response = await this.postRegistration(proof);
		if (response.ok) {
			const config = (await response.clone().json()) as {
				session_identifier: string;
				credentials: Array<{ name: string }>;
			};
			this.sessionId = config.session_identifier;
			this.credentialName = config.credentials[0]!.name;
		}
		return response;
	}

	/**
	 * Posts a proof to the registration endpoint as the signed-in browser (the hook reads its
	 * session cookie). The proof goes bare, not as a quoted structured-field string: Chromium's
	 * registration fetcher sends it so.
	 */
	async postRegistration(proof: string): Promise<Response> {
		const { session } = await this.app.validator.validateSessionCookie(this.cookieHeader() || null);
		const response = await this.app.deviceBinding.register(
			this.request(REGISTRATION_PATH, { 'secure-session-response': proof }),
			session,
			this.client
		);
		this.storeCookies(response.headers.getSetCookie());
		return response;
	}

	/** A DBSC proof: header typ dbsc+jwt with the algorithm (and, at registration, the JWK), payload jti and aud. */
	async proof(
		challenge: string,
		aud: string,
		{
			withKey = false,
			keys = this.keys!,
			payload = {}
		}: { withKey?: boolean; keys?: CryptoKeyPair; payload?: object } = {}
	): Promise<string> {
		const jwk = withKey ? await crypto.subtle.exportKey('jwk', keys.publicKey) : undefined;
		const header = { alg: this.algorithm, typ: 'dbsc+jwt', ...(jwk ? { jwk } : {}) };
		const claims = { aud, jti: challenge, iat: Math.floor(this.now() / 1000), ...payload };
		const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
		const parameters = this.algorithm === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
		const signature = await crypto.subtle.sign(parameters, keys.privateKey, new TextEncoder().encode(input));
		return `${input}.${Buffer.from(signature).toString('base64url')}`;
	}

	/** One refresh request, with a proof or without; both headers bare, as Chromium sends them. */
	async postRefresh(proof: string | null): Promise<Response> {
		const headers: Record<string, string> = { 'sec-secure-session-id': this.sessionId! };
		if (proof !== null) headers['secure-session-response'] = proof;
		const response = await this.app.deviceBinding.refresh(this.request(REFRESH_PATH, headers), this.client);
		this.refreshes.push(response.status);
		this.storeCookies(response.headers.getSetCookie());
		return response;
	}

	/** The draft's refresh: without a proof first, then with one over the 403's challenge. */
	async refresh(): Promise<Response> {
		const first = await this.postRefresh(null);
		if (first.status !== 403) return first;
		const challenge = parseChallenge(first.headers.get('secure-session-challenge')!);
		if (challenge.id !== this.sessionId) throw new Error(`a challenge for another session: ${challenge.id}`);
		return this.postRefresh(await this.proof(challenge.value, `${this.app.origin}${REFRESH_PATH}`));
	}

	/**
	 * A page request as Chrome sends it: a bound session whose credential has expired is
	 * refreshed first (the request waits for it). Returns the validator's verdict.
	 */
	async visit() {
		if (this.sessionId && this.credentialName && !this.hasCookie(this.credentialName)) await this.refresh();
		return this.app.validator.validateSessionCookie(this.cookieHeader() || null);
	}
}

export async function generateKeys(algorithm: 'ES256' | 'RS256'): Promise<CryptoKeyPair> {
	return algorithm === 'ES256'
		? crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
		: crypto.subtle.generateKey(
				{
					name: 'RSASSA-PKCS1-v1_5',
					modulusLength: 2048,
					publicExponent: new Uint8Array([1, 0, 1]),
					hash: 'SHA-256'
				},
				false,
				['sign', 'verify']
			);
}

function base64url(text: string): string {
	return Buffer.from(text).toString('base64url');
}

/** `(ES256 RS256);path="…";challenge="…"`, as the draft's structured list item. */
export function parseRegistration(header: string) {
	const match = /^\(([^)]*)\);path="([^"]*)";challenge="([^"]*)"$/.exec(header);
	if (!match) throw new Error(`not a registration header: ${header}`);
	return { algorithms: match[1]!.split(' '), path: match[2]!, challenge: match[3]! };
}

/** `"challenge";id="session id"`. */
export function parseChallenge(header: string) {
	const match = /^"([^"]*)";id="([^"]*)"$/.exec(header);
	if (!match) throw new Error(`not a challenge header: ${header}`);
	return { value: match[1]!, id: match[2]! };
}
