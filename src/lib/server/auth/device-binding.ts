import {
	createHmac,
	createPublicKey,
	randomBytes,
	timingSafeEqual,
	verify,
	type JsonWebKey,
	type KeyObject
} from 'node:crypto';
import type { CookieSettings, DeviceBoundSettings } from '../config';
import type { SessionRecord, Storage } from '../db/port';
import { safeErrorMessage } from '../errors';
import { MemoryRateLimiter, type RateLimiter, type RateLimitRule } from '../rate-limit';
import { recordSecurityEvent } from '../security-log';
import { cookieName, firstCookieValue, sessionCookieName, verifiedSessionToken } from './cookies';

/**
 * Device Bound Session Credentials (W3C WebAppSec draft, docs/decisions/0019-device-bound-sessions.md).
 * A sign-in invites the browser to register (`Secure-Session-Registration`); the browser proves
 * a key it keeps on the device, and from then on the session needs, besides its session cookie,
 * a short-lived credential cookie that only a fresh proof of that key renews. A copied session
 * cookie without the key stops working once the credential it came with expires.
 *
 * The key is stored on the session row (`device_key`), so the lookup every request makes already
 * says whether a session is bound, and every ending of the session ends its binding with it. The
 * challenges are one-time codes in the codes table: one per session and purpose, spent by
 * compare-and-set, expiring.
 */

export const REGISTRATION_PATH = '/device-session/register';
export const REFRESH_PATH = '/device-session/refresh';

/** The signature algorithms the draft defines for a device key, in the order they are offered. */
const ALGORITHMS = ['ES256', 'RS256'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** How long a challenge can be answered: a browser signs it at once, so a short time suffices. */
export const CHALLENGE_LIFETIME_MS = 5 * 60 * 1000;
/** RSA keys shorter than this are refused. */
const SHORTEST_RSA_BITS = 2048;

/**
 * How many refused proofs of one session the security log records in a window. Anyone holding
 * a copy of the session cookie can post refused proofs as fast as they like; past this the
 * refusals go on, unrecorded, so the owner's log keeps its other events readable and the
 * database takes no write per attempt.
 */
export const REFUSALS_RECORDED: RateLimitRule = { name: 'device-proof-refused', limit: 10, windowSeconds: 3600 };

const REGISTRATION_HOLDER = 'device-registration';
const REFRESH_HOLDER = 'device-refresh';

/** A device key as stored on the session: the algorithm it signs with and its public JWK. */
interface StoredDeviceKey {
	alg: Algorithm;
	jwk: JsonWebKey;
}

/** Why a proof was refused; recorded in the security log, never shown to the client. */
export type ProofRefusal =
	| 'malformed'
	| 'wrong-type'
	| 'wrong-algorithm'
	| 'bad-key'
	| 'bad-signature'
	| 'unknown-challenge'
	| 'expired-challenge'
	| 'wrong-audience';

/** The client of a request, for the security log. */
export interface DeviceClient {
	ipAddress: string | null;
	userAgent: string | null;
}

export interface DeviceBindingOptions {
	database: Storage;
	/** The public origin (ORIGIN): the scope of a bound session and the audience of its proofs. */
	origin: string;
	secret: string;
	cookies: CookieSettings;
	settings: DeviceBoundSettings;
	/** Milliseconds since the epoch; tests move it instead of sleeping. */
	clock?: () => number;
	/** Where a failure to invite a browser is reported; never given a token. */
	logError?: (line: string) => void;
	/**
	 * Counts the refusals recorded per session (REFUSALS_RECORDED): the shared limiter of the
	 * deployment, so the cap holds across instances; this process's memory when not given.
	 */
	limiter?: RateLimiter;
}

/** The bound credential cookie's name: `__Host-` whenever cookies are secure, never shared with subdomains. */
export function credentialCookieName(cookies: CookieSettings): string {
	return cookieName({ prefix: cookies.prefix, secure: cookies.secure }, 'device_credential');
}

/** A key of its own for the credential's MAC, so no other HMAC under the app secret equals one. */
function credentialKey(secret: string): Buffer {
	return createHmac('sha256', secret).update('latchkey device credential').digest();
}

function credentialMac(key: Buffer, sessionId: string, expiresAt: number): string {
	return createHmac('sha256', key).update(`${sessionId}.${expiresAt}`).digest('base64url');
}

/** A credential cookie's value: when it expires, and a MAC of that and the session id. */
export function credentialValue(secret: string, sessionId: string, expiresAt: number): string {
	return `${expiresAt}.${credentialMac(credentialKey(secret), sessionId, expiresAt)}`;
}

/**
 * The validator's check for a bound session: does the request carry a credential cookie issued
 * for this session that has not expired? Synchronous and free of storage: one HMAC.
 */
export function deviceCredentialCheck(secret: string, cookies: CookieSettings) {
	const key = credentialKey(secret);
	const name = credentialCookieName(cookies);
	return (cookieHeader: string | null, sessionId: string, now: number): boolean => {
		const value = cookieHeader ? firstCookieValue(cookieHeader, name) : null;
		const dot = value?.indexOf('.') ?? -1;
		if (!value || dot < 1) return false;
		const expiresAt = Number(value.slice(0, dot));
		if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) return false;
		const given = Buffer.from(value.slice(dot + 1));
		const expected = Buffer.from(credentialMac(key, sessionId, expiresAt));
		return given.length === expected.length && timingSafeEqual(given, expected);
	};
}

export type DeviceCredentialCheck = ReturnType<typeof deviceCredentialCheck>;

/** The registration and refresh endpoints, and the invitation a sign-in's response carries. */
export function createDeviceBinding({
	database,
	origin,
	secret,
	cookies,
	settings,
	clock = Date.now,
	logError = (line) => console.error(line),
	limiter = new MemoryRateLimiter(clock)
}: DeviceBindingOptions) {
	const credentialName = credentialCookieName(cookies);
	const sessionCookie = sessionCookieName(cookies);
	const lifetimeSeconds = settings.credentialLifetimeSeconds;
	const maxAgeSeconds = lifetimeSeconds - Math.min(30, Math.floor(lifetimeSeconds / 10));
	const attributes = ['Path=/', ...(cookies.secure ? ['Secure'] : []), 'HttpOnly', 'SameSite=Lax'].join('; ');

	/** A fresh challenge for the session, replacing any earlier one of the same purpose. */
	async function issueChallenge(purpose: string, sessionId: string, now: number): Promise<string> {
		const challenge = randomBytes(32).toString('base64url');
		const expiresAt = now + CHALLENGE_LIFETIME_MS;
		await database.codes.replace(
			{
				id: randomBytes(16).toString('hex'),
				holder: `${purpose}:${sessionId}`,
				value: `${expiresAt}:${challenge}`,
				expiresAt: new Date(expiresAt)
			},
			new Date(now)
		);
		return challenge;
	}

	/**
	 * The session's refresh challenge: the one outstanding while it has more than half its
	 * lifetime left, else a fresh one. Anyone holding a copy of the session cookie can ask for a
	 * challenge; were each request to replace it, they could keep spoiling the challenge the
	 * device is signing until the browser gives up on the session (Chromium ends it after a few
	 * challenges in one refresh). A challenge handed out again is still spent by one proof only.
	 */
	async function refreshChallenge(sessionId: string, now: number): Promise<string> {
		const stored = await database.codes.find(`${REFRESH_HOLDER}:${sessionId}`);
		if (stored) {
			const colon = stored.value.indexOf(':');
			const expiresAt = Number(stored.value.slice(0, colon));
			if (expiresAt - now > CHALLENGE_LIFETIME_MS / 2) return stored.value.slice(colon + 1);
		}
		return issueChallenge(REFRESH_HOLDER, sessionId, now);
	}

	/**
	 * Spends the session's challenge of this purpose when `jti` is it: null (accepted) for the one
	 * proof that answers it in time, the refusal otherwise. A stale, unknown or already spent
	 * challenge is refused.
	 */
	async function spendChallenge(
		purpose: string,
		sessionId: string,
		jti: unknown,
		now: number
	): Promise<ProofRefusal | null> {
		const stored = await database.codes.find(`${purpose}:${sessionId}`);
		if (!stored || typeof jti !== 'string') return 'unknown-challenge';
		const colon = stored.value.indexOf(':');
		const expiresAt = Number(stored.value.slice(0, colon));
		const challenge = stored.value.slice(colon + 1);
		if (!equalStrings(challenge, jti)) return 'unknown-challenge';
		if (!(expiresAt > now)) return 'expired-challenge';
		return (await database.codes.spend(stored.id, stored.value)) ? null : 'unknown-challenge';
	}

	/**
	 * The credential cookie for this session, valid for the configured lifetime from `now`. The
	 * browser is told to drop it a little earlier (a tenth of the lifetime, at most 30 seconds):
	 * a request it sends just before the cookie expires is validated a moment later, and would
	 * otherwise find the credential expired and be served signed out (a page sent to sign-in, a
	 * form's post lost). The browser refreshes when the cookie is gone, so it never sends one
	 * the server no longer accepts; a copy is accepted no longer than the lifetime.
	 */
	function credentialCookie(sessionId: string, now: number): string {
		const expiresAt = now + lifetimeSeconds * 1000;
		const value = credentialValue(secret, sessionId, expiresAt);
		return `${credentialName}=${value}; Max-Age=${maxAgeSeconds}; ${attributes}`;
	}

	/** The session configuration the draft's registration answer carries. */
	function sessionConfig(sessionId: string) {
		return {
			session_identifier: sessionId,
			refresh_url: REFRESH_PATH,
			scope: { origin, include_site: false, scope_specification: [] },
			credentials: [{ type: 'cookie', name: credentialName, attributes }]
		};
	}

	/** Records a refused proof in the security log, up to REFUSALS_RECORDED per session. */
	async function refused(
		session: Pick<SessionRecord, 'id' | 'userId'>,
		reason: ProofRefusal,
		step: string,
		client: DeviceClient
	) {
		if (!(await limiter.consume(REFUSALS_RECORDED, session.id)).allowed) return;
		await recordSecurityEvent(database, {
			userId: session.userId,
			sessionId: session.id,
			type: 'DEVICE_PROOF_REFUSED',
			...client,
			detail: { step, reason }
		});
	}

	/** A session the validator would accept at `now`, by its rules (validator.ts). */
	function live(session: SessionRecord, now: number): boolean {
		if (session.absoluteExpiresAt && session.absoluteExpiresAt.getTime() <= now) return false;
		return session.expiresAt.getTime() >= now;
	}

	return {
		enabled: settings.enabled,
		credentialName,

		/**
		 * Adds the registration invitation to a sign-in's response, for the session it created.
		 * An invitation that cannot be stored leaves the response as it was: the session is then
		 * an unbound one, as in a browser without DBSC, and nobody is signed in by the failure.
		 */
		async invite(sessionId: string, response: Response): Promise<Response> {
			if (!settings.enabled) return response;
			let challenge: string;
			try {
				challenge = await issueChallenge(REGISTRATION_HOLDER, sessionId, clock());
			} catch (error) {
				logError(`latchkey: could not invite a device-bound session: ${safeErrorMessage(error)}`);
				return response;
			}
			const value = `(${ALGORITHMS.join(' ')});path="${REGISTRATION_PATH}";challenge="${challenge}"`;
			const answer = mutable(response);
			answer.headers.append('secure-session-registration', value);
			return answer;
		},

		/**
		 * POST /device-session/register: the browser's proof (the `Secure-Session-Response` JWT, its
		 * public key in the header) over the challenge of the invitation, for the signed-in session
		 * `session` (read by the hook from its session cookie). A valid one binds the session and
		 * answers the session configuration with the first credential cookie.
		 */
		async register(
			request: Request,
			session: Pick<SessionRecord, 'id' | 'userId'> | null,
			client: DeviceClient
		): Promise<Response> {
			if (!session) return plain(401, 'Sign in first: registration binds a signed-in session.');
			const proof = parseProof(sfString(request.headers.get('secure-session-response')));
			if (!proof) return plain(400, 'Missing or malformed Secure-Session-Response proof.');
			const now = clock();
			const jwk = proof.header.jwk ?? proof.payload.key;
			const publicKey = proof.alg && jwk ? devicePublicKey(proof.alg, jwk) : null;
			const refusal: ProofRefusal | null =
				proof.header.typ !== 'dbsc+jwt'
					? 'wrong-type'
					: !proof.alg
						? 'wrong-algorithm'
						: !publicKey
							? 'bad-key'
							: !signatureValid(proof.alg, publicKey, proof)
								? 'bad-signature'
								: !audienceValid(proof.payload.aud, origin, REGISTRATION_PATH)
									? 'wrong-audience'
									: await spendChallenge(REGISTRATION_HOLDER, session.id, proof.payload.jti, now);
			if (refusal) {
				await refused(session, refusal, 'registration', client);
				return plain(403, 'The registration proof was refused.');
			}
			const stored: StoredDeviceKey = { alg: proof.alg!, jwk: publicKey!.export({ format: 'jwk' }) };
			if (!(await database.sessions.bindDevice(session.id, JSON.stringify(stored), new Date(now))))
				return plain(409, 'This session is already bound to a device, or has ended.');
			// The session is bound from here on: withholding the configuration and its credential
			// now would leave the browser without a session to refresh and the owner refused on
			// every request. A log row that cannot be written is reported, not fatal.
			try {
				await recordSecurityEvent(database, {
					userId: session.userId,
					sessionId: session.id,
					type: 'DEVICE_BOUND',
					...client,
					detail: { algorithm: stored.alg }
				});
			} catch (error) {
				logError(`latchkey: could not record a device binding: ${safeErrorMessage(error)}`);
			}
			return Response.json(sessionConfig(session.id), {
				headers: { 'cache-control': 'no-store', 'set-cookie': credentialCookie(session.id, now) }
			});
		},

		/**
		 * POST /device-session/refresh: `Sec-Secure-Session-Id` names the bound session, whose
		 * session cookie comes with the request. Without a proof, or with one that is refused, the
		 * answer is 403 with a new challenge; a proof signed by the session's key over its
		 * challenge gets a fresh credential cookie. A session that has ended, or is not bound,
		 * answers `continue: false` for the session id named, so the browser stops refreshing it.
		 */
		async refresh(request: Request, client: DeviceClient): Promise<Response> {
			const sessionId = sfString(request.headers.get('sec-secure-session-id'));
			if (!sessionId) return plain(400, 'Missing Sec-Secure-Session-Id.');
			const token = verifiedSessionToken(request.headers.get('cookie'), sessionCookie, secret);
			const found = token ? await database.sessions.findByToken(token) : null;
			const now = clock();
			const session = found?.session;
			if (!session || session.id !== sessionId || !session.deviceKey || !live(session, now)) {
				// The id the browser named goes back with it: Chromium reads `session_identifier` before
				// `continue`, and without it ends the session as misconfigured rather than as asked.
				return Response.json(
					{ session_identifier: sessionId, continue: false },
					{ headers: { 'cache-control': 'no-store' } }
				);
			}
			const header = request.headers.get('secure-session-response');
			if (header !== null) {
				const refusal = await refreshRefusal(session, sfString(header), now);
				if (!refusal) {
					return new Response(null, {
						status: 200,
						headers: { 'cache-control': 'no-store', 'set-cookie': credentialCookie(session.id, now) }
					});
				}
				await refused(session, refusal, 'refresh', client);
			}
			const challenge = await refreshChallenge(session.id, now);
			return new Response('A proof of the device key is needed.', {
				status: 403,
				headers: {
					'cache-control': 'no-store',
					'content-type': 'text/plain; charset=utf-8',
					'secure-session-challenge': `"${challenge}";id="${session.id}"`
				}
			});
		}
	};

	async function refreshRefusal(session: SessionRecord, jwt: string | null, now: number): Promise<ProofRefusal | null> {
		const proof = parseProof(jwt);
		if (!proof) return 'malformed';
		if (proof.header.typ !== 'dbsc+jwt') return 'wrong-type';
		const stored = storedKey(session.deviceKey);
		if (!stored || proof.alg !== stored.alg) return 'wrong-algorithm';
		const publicKey = devicePublicKey(stored.alg, stored.jwk);
		if (!publicKey) return 'bad-key';
		if (!signatureValid(stored.alg, publicKey, proof)) return 'bad-signature';
		if (!audienceValid(proof.payload.aud, origin, REFRESH_PATH)) return 'wrong-audience';
		return spendChallenge(REFRESH_HOLDER, session.id, proof.payload.jti, now);
	}
}

export type DeviceBinding = ReturnType<typeof createDeviceBinding>;

function plain(status: number, message: string): Response {
	return new Response(message, {
		status,
		headers: { 'cache-control': 'no-store', 'content-type': 'text/plain; charset=utf-8' }
	});
}

/** A response whose headers can be changed: one built elsewhere may have immutable headers. */
function mutable(response: Response): Response {
	try {
		response.headers.set('x-latchkey-probe', '');
		response.headers.delete('x-latchkey-probe');
		return response;
	} catch {
		return new Response(response.body, response);
	}
}

/**
 * The value of `Secure-Session-Response` or `Sec-Secure-Session-Id`: the draft's structured-field
 * string (`"value"`, parameters ignored), or the bare value Chromium sends (its registration
 * fetcher sets both headers to the raw JWT and session id, and the web-platform-tests read them
 * so). Null for anything else. Session ids, challenges and JWTs hold no quote, comma, semicolon,
 * backslash or space.
 */
export function sfString(header: string | null): string | null {
	if (header === null) return null;
	const quoted = /^\s*"([\x20\x21\x23-\x5b\x5d-\x7e]*)"\s*(;.*)?$/.exec(header);
	if (quoted) return quoted[1]!;
	const bare = /^\s*([\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+)\s*$/.exec(header);
	return bare ? bare[1]! : null;
}

interface Proof {
	header: { typ?: unknown; alg?: unknown; jwk?: JsonWebKey };
	payload: { jti?: unknown; aud?: unknown; key?: JsonWebKey };
	alg: Algorithm | null;
	signingInput: Buffer;
	signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The parts of a compact JWS, or null when it is not one. */
function parseProof(jwt: string | null): Proof | null {
	const parts = jwt?.split('.');
	if (!parts || parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return null;
	const [header, payload] = [jsonObject(parts[0]!), jsonObject(parts[1]!)];
	if (!header || !payload) return null;
	const alg = (ALGORITHMS as readonly unknown[]).includes(header.alg) ? (header.alg as Algorithm) : null;
	return {
		header: header as Proof['header'],
		payload: payload as Proof['payload'],
		alg,
		signingInput: Buffer.from(`${parts[0]}.${parts[1]}`),
		signature: Buffer.from(parts[2]!, 'base64url')
	};
}

function jsonObject(part: string): Record<string, unknown> | null {
	try {
		const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
		return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
	} catch {
		return null;
	}
}

/** The public key of a JWK fit for `alg` (P-256 for ES256, RSA of 2048 bits or more for RS256); null otherwise. */
function devicePublicKey(alg: Algorithm, jwk: unknown): KeyObject | null {
	if (!jwk || typeof jwk !== 'object') return null;
	const { kty, crv } = jwk as { kty?: unknown; crv?: unknown };
	if (alg === 'ES256' ? kty !== 'EC' || crv !== 'P-256' : kty !== 'RSA') return null;
	try {
		const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
		const details = publicKey.asymmetricKeyDetails;
		if (alg === 'RS256' && (details?.modulusLength ?? 0) < SHORTEST_RSA_BITS) return null;
		return publicKey;
	} catch {
		return null;
	}
}

function signatureValid(alg: Algorithm, publicKey: KeyObject, proof: Proof): boolean {
	try {
		if (alg === 'ES256') {
			// JWS carries ES256 as the raw 64-byte r || s, not DER.
			if (proof.signature.length !== 64) return false;
			return verify('sha256', proof.signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, proof.signature);
		}
		return verify('sha256', proof.signingInput, publicKey, proof.signature);
	} catch {
		return false;
	}
}

/**
 * The draft requires no audience; a proof that names one must name this endpoint (its URL on
 * ORIGIN) or ORIGIN itself, so a proof made for another site or endpoint is not accepted here.
 */
function audienceValid(aud: unknown, origin: string, path: string): boolean {
	if (aud === undefined) return true;
	return aud === `${origin}${path}` || aud === origin;
}

function storedKey(text: string | null): StoredDeviceKey | null {
	try {
		const parsed = text ? (JSON.parse(text) as StoredDeviceKey) : null;
		return parsed && (ALGORITHMS as readonly string[]).includes(parsed.alg) ? parsed : null;
	} catch {
		return null;
	}
}

function equalStrings(a: string, b: string): boolean {
	const [left, right] = [Buffer.from(a), Buffer.from(b)];
	return left.length === right.length && timingSafeEqual(left, right);
}
