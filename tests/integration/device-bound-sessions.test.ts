import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import {
	CHALLENGE_LIFETIME_MS,
	createDeviceBinding,
	REFRESH_PATH,
	REFUSALS_RECORDED,
	REGISTRATION_PATH
} from '../../src/lib/server/auth/device-binding';
import { sendSignInCode, verifySignInCode } from '../../src/lib/server/auth/otp-sign-in';
import { listSessions, revokeAllSessions, revokeOwnSession, revokeSession } from '../../src/lib/server/auth/sessions';
import type { Storage } from '../../src/lib/server/db/port';
import { databaseFaults } from '../../src/lib/server/http/unavailable';
import { MemoryRateLimiter } from '../../src/lib/server/rate-limit';
import {
	asFormAction,
	latestCodeTo,
	newVisitor,
	signInServiceOf,
	startTestApp,
	TestClock,
	type TestApp
} from './support/app';
import { DIALECTS } from './support/databases';
import { DbscBrowser, generateKeys, parseChallenge, parseRegistration } from './support/dbsc-browser';
import { useScratchApp } from './support/suite';

const LIFETIME_SECONDS = 10 * 60;

/**
 * Device Bound Session Credentials (docs/decisions/0019-device-bound-sessions.md), end to end
 * on each engine: a scripted browser that follows the draft as Chrome does signs in, registers
 * a Web Crypto key, and refreshes its short-lived credential whenever it expires; a copy of its
 * cookies in another client stops working once the copied credential expires. Time moves only
 * on the test's clock.
 */
describe.each(DIALECTS)('device-bound sessions, on %s', (dialect) => {
	const clock = new TestClock();
	const suite = useScratchApp(dialect, { clock, env: { DEVICE_BOUND_SESSIONS: 'on' } });
	let people = 0;

	/** Signs in by emailed code as the login form does; the answer carries the invitation the hook adds. */
	async function signInBrowser(app: TestApp = suite.app) {
		people += 1;
		const email = `dbsc-${dialect}-${people}@example.com`;
		const visitor = { ...newVisitor(), pending: new Map<string, string>() };
		const browser = new DbscBrowser(app, visitor);
		const service = { ...signInServiceOf(app), limiter: new MemoryRateLimiter() };
		await asFormAction(app, visitor, (event) => sendSignInCode(service, event, email));
		const code = latestCodeTo(app, email)!;
		let created: string | undefined;
		const verified = await asFormAction(app, visitor, async (event) => {
			const outcome = await verifySignInCode(service, event, { email, code, rememberMe: false });
			created = event.locals.newSessionId;
			return outcome;
		});
		expect(verified.outcome).toBeNull();
		const answer = new Response(null, { status: 303, headers: { location: '/' } });
		for (const line of verified.setCookies) answer.headers.append('set-cookie', line);
		// What the deviceRegistration handle does with the sign-in's answer (handles.ts).
		const response = created ? await app.deviceBinding.invite(created, answer) : answer;
		browser.storeCookies(verified.setCookies);
		const { session, user } = await app.validator.validateSessionCookie(browser.cookieHeader());
		return {
			browser,
			invitation: response.headers.get('secure-session-registration'),
			session: session!,
			user: user!,
			created
		};
	}

	async function boundBrowser(algorithm: 'ES256' | 'RS256' = 'ES256') {
		const signedIn = await signInBrowser();
		const registered = await signedIn.browser.register(signedIn.invitation!, { algorithm });
		expect(registered.status).toBe(200);
		return signedIn;
	}

	async function eventTypes(userId: string): Promise<string[]> {
		const { rows } = await suite.app.database.securityEvents.page(userId, 50, 0);
		return rows.map((row) => row.type).reverse();
	}

	async function refusals(userId: string) {
		const { rows } = await suite.app.database.securityEvents.page(userId, 50, 0);
		return rows.filter((row) => row.type === 'DEVICE_PROOF_REFUSED').map((row) => JSON.parse(row.detail) as object);
	}

	it('a sign-in invites the browser to register, offering ES256 and RS256, a path and a challenge', async () => {
		const { invitation, session, created } = await signInBrowser();
		expect(created).toBe(session.id);
		const { algorithms, path, challenge } = parseRegistration(invitation!);
		expect(algorithms).toEqual(['ES256', 'RS256']);
		expect(path).toBe(REGISTRATION_PATH);
		expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
	});

	it('registration answers the session configuration and the first credential, and binds the session', async () => {
		const { browser, invitation, session, user } = await signInBrowser();
		const response = await browser.register(invitation!);
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({
			session_identifier: session.id,
			refresh_url: REFRESH_PATH,
			scope: { origin: suite.app.origin, include_site: false, scope_specification: [] },
			credentials: [
				{ type: 'cookie', name: 'latchkey.device_credential', attributes: 'Path=/; HttpOnly; SameSite=Lax' }
			]
		});
		const [credential] = response.headers.getSetCookie();
		expect(credential).toMatch(
			new RegExp(
				`^latchkey\\.device_credential=\\d+\\.[\\w-]{43}; Max-Age=${LIFETIME_SECONDS - 30}; Path=/; HttpOnly; SameSite=Lax$`
			)
		);
		const stored = (await suite.app.validator.validateSessionCookie(browser.cookieHeader())).session!;
		expect(stored.deviceBoundAt).toEqual(new Date(clock.ms));
		expect(JSON.parse(stored.deviceKey!)).toMatchObject({ alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
		expect(JSON.parse(stored.deviceKey!).jwk).not.toHaveProperty('d');
		expect(await eventTypes(user.id)).toEqual(['SIGN_IN', 'DEVICE_BOUND']);
	});

	it('keeps the browser signed in across several credential lifetimes; a copy of its cookies is refused after one', async () => {
		const { browser, session } = await boundBrowser();
		// An infostealer copies every cookie the browser has, the fresh credential included.
		const thief = new DbscBrowser(suite.app, newVisitor());
		thief.setCookie('latchkey.session_token', browser.cookie('latchkey.session_token').split('=')[1]!);
		thief.setCookie('latchkey.device_credential', browser.cookie('latchkey.device_credential').split('=')[1]!);
		expect((await thief.visit()).session?.id).toBe(session.id);

		// The thief's client keeps sending the copied credential after its Max-Age, as malware would.
		const copiedAt = clock.ms;
		const thiefSignedIn: boolean[] = [];
		for (let step = 0; step < 12; step++) {
			clock.advance(LIFETIME_SECONDS / 3);
			expect((await browser.visit()).session?.id).toBe(session.id);
			thiefSignedIn.push((await thief.visit()).session !== null);
		}
		// The copy works no longer than the credential it came with: the first two steps, then never.
		expect(clock.ms - copiedAt).toBe(4 * LIFETIME_SECONDS * 1000);
		expect(thiefSignedIn).toEqual([true, true, ...Array<boolean>(10).fill(false)]);
		// Four lifetimes: each credential expired once and was renewed with one challenge and one proof.
		expect(browser.refreshes).toEqual([403, 200, 403, 200, 403, 200, 403, 200]);
		// The thief's cookies, its session cookie included, are left alone: refused, not ended.
		const thiefAnswer = await suite.app.validator.validateSessionCookie(thief.cookieHeader());
		expect(thiefAnswer).toEqual({ session: null, user: null, cookie: null, endedReason: null });
	});

	it('a request sent just before the credential cookie expires is still signed in when it arrives', async () => {
		const { browser, invitation, session } = await signInBrowser();
		const registered = await browser.register(invitation!);
		const maxAge = Number(/Max-Age=(\d+)/.exec(registered.headers.getSetCookie()[0]!)![1]);
		// The browser drops the cookie at its Max-Age; the last request that carries it leaves a
		// moment before and is validated a few seconds after.
		clock.ms += maxAge * 1000 - 1;
		expect(browser.hasCookie('latchkey.device_credential')).toBe(true);
		const sent = browser.cookieHeader();
		clock.advance(5);
		expect((await suite.app.validator.validateSessionCookie(sent)).session?.id).toBe(session.id);
		// The credential itself still ends at the configured lifetime from its issue.
		clock.ms += (LIFETIME_SECONDS - maxAge - 5) * 1000 + 1;
		expect((await suite.app.validator.validateSessionCookie(sent)).session).toBeNull();
	});

	it('a copied session cookie cannot renew the credential without the key', async () => {
		const { browser, session, user } = await boundBrowser();
		const thief = new DbscBrowser(suite.app, newVisitor());
		thief.setCookie('latchkey.session_token', browser.cookie('latchkey.session_token').split('=')[1]!);
		thief.sessionId = session.id;
		thief.algorithm = 'ES256';
		thief.keys = await generateKeys('ES256');
		const answer = await thief.refresh();
		expect(answer.status).toBe(403);
		expect(answer.headers.getSetCookie()).toEqual([]);
		expect(await refusals(user.id)).toEqual([{ step: 'refresh', reason: 'bad-signature' }]);
		expect((await thief.visit()).session).toBeNull();
		// The device itself goes on.
		clock.advance(LIFETIME_SECONDS + 1);
		expect((await browser.visit()).session?.id).toBe(session.id);
	});

	it("accepts the draft's quoted structured-field strings as well as Chromium's bare values", async () => {
		const { browser, invitation, session } = await signInBrowser();
		browser.keys = await generateKeys('ES256');
		const { challenge } = parseRegistration(invitation!);
		const proof = await browser.proof(challenge, `${suite.app.origin}${REGISTRATION_PATH}`, { withKey: true });
		const registered = await suite.app.deviceBinding.register(
			browser.request(REGISTRATION_PATH, { 'secure-session-response': `"${proof}"` }),
			session,
			browser.client
		);
		expect(registered.status).toBe(200);
		browser.storeCookies(registered.headers.getSetCookie());
		const quotedId = { 'sec-secure-session-id': `"${session.id}"` };
		const asked = await suite.app.deviceBinding.refresh(browser.request(REFRESH_PATH, quotedId), browser.client);
		const refreshChallenge = parseChallenge(asked.headers.get('secure-session-challenge')!);
		const refreshProof = await browser.proof(refreshChallenge.value, `${suite.app.origin}${REFRESH_PATH}`);
		const renewed = await suite.app.deviceBinding.refresh(
			browser.request(REFRESH_PATH, { ...quotedId, 'secure-session-response': `"${refreshProof}"` }),
			browser.client
		);
		expect(renewed.status).toBe(200);
		expect(renewed.headers.getSetCookie()).toHaveLength(1);
	});

	it('registers and refreshes with proofs shaped as Chromium makes them: jti only, no aud or iat', async () => {
		const { browser, invitation, session } = await signInBrowser();
		browser.keys = await generateKeys('ES256');
		const jwk = await crypto.subtle.exportKey('jwk', browser.keys.publicKey);
		const chromeProof = async (jti: string, header: object) => {
			const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
			const input = `${encode({ alg: 'ES256', typ: 'dbsc+jwt', ...header })}.${encode({ jti })}`;
			const signature = await crypto.subtle.sign(
				{ name: 'ECDSA', hash: 'SHA-256' },
				browser.keys!.privateKey,
				new TextEncoder().encode(input)
			);
			return `${input}.${Buffer.from(signature).toString('base64url')}`;
		};
		const registered = await browser.postRegistration(
			await chromeProof(parseRegistration(invitation!).challenge, { jwk })
		);
		expect(registered.status).toBe(200);
		browser.sessionId = session.id;
		const asked = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
		const renewed = await browser.postRefresh(await chromeProof(asked.value, {}));
		expect(renewed.status).toBe(200);
		expect(renewed.headers.getSetCookie()).toHaveLength(1);
	});

	it('RS256 registers and refreshes as ES256 does', async () => {
		const { browser, session } = await boundBrowser('RS256');
		clock.advance(LIFETIME_SECONDS + 1);
		expect((await browser.visit()).session?.id).toBe(session.id);
		expect(browser.refreshes).toEqual([403, 200]);
		const stored = (await suite.app.validator.validateSessionCookie(browser.cookieHeader())).session!;
		expect(JSON.parse(stored.deviceKey!)).toMatchObject({ alg: 'RS256', jwk: { kty: 'RSA' } });
	});

	describe('registration fails closed', () => {
		async function refusedRegistration(
			tamper: (browser: DbscBrowser, challenge: string) => Promise<string>
		): Promise<{ status: number; reasons: object[]; bound: boolean }> {
			const { browser, invitation, user } = await signInBrowser();
			const { challenge } = parseRegistration(invitation!);
			browser.keys = await generateKeys('ES256');
			const response = await browser.postRegistration(await tamper(browser, challenge));
			expect(response.headers.getSetCookie()).toEqual([]);
			const { session } = await suite.app.validator.validateSessionCookie(browser.cookieHeader());
			return { status: response.status, reasons: await refusals(user.id), bound: session?.deviceKey != null };
		}
		const AUD = `http://localhost:5173${REGISTRATION_PATH}`;

		it('a bad signature binds nothing', async () => {
			const outcome = await refusedRegistration(async (browser, challenge) => {
				const proof = await browser.proof(challenge, AUD, { withKey: true });
				const [header, payload, signature] = proof.split('.');
				const flipped = Buffer.from(signature!, 'base64url');
				flipped[5]! ^= 1;
				return [header, payload, flipped.toString('base64url')].join('.');
			});
			expect(outcome).toEqual({
				status: 403,
				reasons: [{ step: 'registration', reason: 'bad-signature' }],
				bound: false
			});
		});

		it('a proof signed by another key than the one it names binds nothing', async () => {
			const outcome = await refusedRegistration(async (browser, challenge) => {
				const named = await browser.proof(challenge, AUD, { withKey: true });
				const signed = await browser.proof(challenge, AUD, { withKey: true, keys: await generateKeys('ES256') });
				return [...named.split('.').slice(0, 2), signed.split('.')[2]].join('.');
			});
			expect(outcome).toEqual({
				status: 403,
				reasons: [{ step: 'registration', reason: 'bad-signature' }],
				bound: false
			});
		});

		it('a challenge it was not given binds nothing', async () => {
			const outcome = await refusedRegistration((browser) =>
				browser.proof('made-up-challenge', AUD, { withKey: true })
			);
			expect(outcome).toEqual({
				status: 403,
				reasons: [{ step: 'registration', reason: 'unknown-challenge' }],
				bound: false
			});
		});

		it('an expired challenge binds nothing', async () => {
			const outcome = await refusedRegistration(async (browser, challenge) => {
				clock.advance(CHALLENGE_LIFETIME_MS / 1000);
				return browser.proof(challenge, AUD, { withKey: true });
			});
			expect(outcome).toEqual({
				status: 403,
				reasons: [{ step: 'registration', reason: 'expired-challenge' }],
				bound: false
			});
		});

		it('a proof for another audience binds nothing', async () => {
			const outcome = await refusedRegistration((browser, challenge) =>
				browser.proof(challenge, `https://evil.example${REGISTRATION_PATH}`, { withKey: true })
			);
			expect(outcome).toEqual({
				status: 403,
				reasons: [{ step: 'registration', reason: 'wrong-audience' }],
				bound: false
			});
		});

		it('a proof that is not a dbsc+jwt, or has no key, binds nothing', async () => {
			const untyped = await refusedRegistration((browser, challenge) =>
				browser.proof(challenge, AUD, { withKey: true }).then((proof) => {
					const header = { alg: 'ES256', typ: 'JWT' };
					return [Buffer.from(JSON.stringify(header)).toString('base64url'), ...proof.split('.').slice(1)].join('.');
				})
			);
			expect(untyped).toMatchObject({ status: 403, reasons: [{ reason: 'wrong-type' }], bound: false });
			const keyless = await refusedRegistration((browser, challenge) => browser.proof(challenge, AUD));
			expect(keyless).toMatchObject({ status: 403, reasons: [{ reason: 'bad-key' }], bound: false });
		});

		it('a replayed registration proof is refused', async () => {
			const { browser, invitation, session, user } = await signInBrowser();
			const { challenge } = parseRegistration(invitation!);
			browser.keys = await generateKeys('ES256');
			const proof = await browser.proof(challenge, AUD, { withKey: true });
			const first = await suite.app.deviceBinding.register(
				browser.request(REGISTRATION_PATH, { 'secure-session-response': `"${proof}"` }),
				session,
				browser.client
			);
			expect(first.status).toBe(200);
			const again = await suite.app.deviceBinding.register(
				browser.request(REGISTRATION_PATH, { 'secure-session-response': `"${proof}"` }),
				session,
				browser.client
			);
			expect(again.status).toBe(403);
			expect(again.headers.getSetCookie()).toEqual([]);
			expect(await refusals(user.id)).toEqual([{ step: 'registration', reason: 'unknown-challenge' }]);
		});

		it('no session, no proof, or a malformed one: a plain 4xx', async () => {
			const { browser } = await signInBrowser();
			const signedOut = await suite.app.deviceBinding.register(
				browser.request(REGISTRATION_PATH),
				null,
				browser.client
			);
			expect([signedOut.status, await signedOut.text()]).toEqual([
				401,
				'Sign in first: registration binds a signed-in session.'
			]);
			const { session } = await suite.app.validator.validateSessionCookie(browser.cookieHeader());
			for (const header of [null, 'not-a-string', '"a.b"', '"%%%.x.y"']) {
				const request = browser.request(
					REGISTRATION_PATH,
					header === null ? {} : { 'secure-session-response': header }
				);
				const response = await suite.app.deviceBinding.register(request, session, browser.client);
				expect([response.status, await response.text()]).toEqual([
					400,
					'Missing or malformed Secure-Session-Response proof.'
				]);
			}
		});
		it('a bound session whose log row cannot be written still gets its configuration and credential', async () => {
			const { browser, invitation, session } = await signInBrowser();
			const fault = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
			const lines: string[] = [];
			const database = suite.app.database;
			const binding = createDeviceBinding({
				database: { ...database, securityEvents: { ...database.securityEvents, record: () => Promise.reject(fault) } },
				origin: suite.app.origin,
				secret: suite.app.config.secret,
				cookies: suite.app.config.cookies,
				settings: suite.app.config.deviceBound,
				clock: clock.now,
				logError: (line) => lines.push(line)
			});
			browser.keys = await generateKeys('ES256');
			const { challenge } = parseRegistration(invitation!);
			const proof = await browser.proof(challenge, `${suite.app.origin}${REGISTRATION_PATH}`, { withKey: true });
			const answer = await binding.register(
				browser.request(REGISTRATION_PATH, { 'secure-session-response': proof }),
				session,
				browser.client
			);
			expect(answer.status).toBe(200);
			expect(((await answer.json()) as { session_identifier: string }).session_identifier).toBe(session.id);
			browser.storeCookies(answer.headers.getSetCookie());
			expect((await browser.visit()).session?.deviceKey).not.toBeNull();
			expect(lines).toEqual([
				'latchkey: could not record a device binding: the database server cannot be reached (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432)'
			]);
		});
	});

	describe('refresh fails closed', () => {
		it('a replayed refresh proof gets no credential', async () => {
			const { browser, user } = await boundBrowser();
			const challenge = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
			const proof = await browser.proof(challenge.value, `${suite.app.origin}${REFRESH_PATH}`);
			expect((await browser.postRefresh(proof)).status).toBe(200);
			const replayed = await browser.postRefresh(proof);
			expect(replayed.status).toBe(403);
			expect(replayed.headers.getSetCookie()).toEqual([]);
			expect(replayed.headers.get('secure-session-challenge')).toMatch(/^"[\w-]{43}";id="/);
			expect(await refusals(user.id)).toEqual([{ step: 'refresh', reason: 'unknown-challenge' }]);
		});

		it('a copied session cookie posting refused proofs fills the security log only up to its cap', async () => {
			const { browser, session, user } = await boundBrowser();
			const thief = new DbscBrowser(suite.app, newVisitor());
			thief.setCookie('latchkey.session_token', browser.cookie('latchkey.session_token').split('=')[1]!);
			thief.sessionId = session.id;
			const attempts = REFUSALS_RECORDED.limit + 5;
			for (let attempt = 0; attempt < attempts; attempt++) {
				expect((await thief.postRefresh('not.a.jwt')).status).toBe(403);
			}
			expect(thief.refreshes).toHaveLength(attempts);
			expect(await refusals(user.id)).toHaveLength(REFUSALS_RECORDED.limit);
			// A new window records again.
			clock.advance(REFUSALS_RECORDED.windowSeconds);
			expect((await thief.postRefresh('not.a.jwt')).status).toBe(403);
			expect(await refusals(user.id)).toHaveLength(REFUSALS_RECORDED.limit + 1);
		});

		it('a copied session cookie asking for challenges does not spoil the one the device is signing', async () => {
			const { browser, session } = await boundBrowser();
			const thief = new DbscBrowser(suite.app, newVisitor());
			thief.setCookie('latchkey.session_token', browser.cookie('latchkey.session_token').split('=')[1]!);
			thief.sessionId = session.id;
			const asked = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
			for (let request = 0; request < 3; request++) expect((await thief.postRefresh(null)).status).toBe(403);
			const proof = await browser.proof(asked.value, `${suite.app.origin}${REFRESH_PATH}`);
			expect((await browser.postRefresh(proof)).status).toBe(200);
			// Spent by that proof: the next request gets another.
			const next = parseChallenge((await thief.postRefresh(null)).headers.get('secure-session-challenge')!);
			expect(next.value).not.toBe(asked.value);
			// Past half its lifetime, an outstanding challenge is replaced, so none is handed out about to expire.
			clock.advance(CHALLENGE_LIFETIME_MS / 2000);
			const late = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
			expect(late.value).not.toBe(next.value);
		});

		it('an expired challenge gets no credential', async () => {
			const { browser, user } = await boundBrowser();
			const challenge = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
			clock.advance(CHALLENGE_LIFETIME_MS / 1000);
			const late = await browser.postRefresh(
				await browser.proof(challenge.value, `${suite.app.origin}${REFRESH_PATH}`)
			);
			expect(late.status).toBe(403);
			expect(late.headers.getSetCookie()).toEqual([]);
			expect(await refusals(user.id)).toEqual([{ step: 'refresh', reason: 'expired-challenge' }]);
		});

		it('a proof with the wrong algorithm, a bad signature or for another audience gets no credential', async () => {
			const { browser, user } = await boundBrowser();
			const aud = `${suite.app.origin}${REFRESH_PATH}`;
			const attempts: Array<(challenge: string) => Promise<string>> = [
				async (challenge) => {
					const proof = await browser.proof(challenge, aud);
					return `${proof.slice(0, -4)}AAAA`;
				},
				(challenge) => browser.proof(challenge, 'https://evil.example/device-session/refresh'),
				async (challenge) => {
					const proof = await browser.proof(challenge, aud);
					const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'dbsc+jwt' })).toString('base64url');
					return [header, ...proof.split('.').slice(1)].join('.');
				},
				async () => 'not.a.jwt'
			];
			for (const attempt of attempts) {
				const challenge = parseChallenge((await browser.postRefresh(null)).headers.get('secure-session-challenge')!);
				const answer = await browser.postRefresh(await attempt(challenge.value));
				expect(answer.status).toBe(403);
				expect(answer.headers.getSetCookie()).toEqual([]);
			}
			expect((await refusals(user.id)).map((detail) => (detail as { reason: string }).reason).reverse()).toEqual([
				'bad-signature',
				'wrong-audience',
				'wrong-algorithm',
				'malformed'
			]);
		});

		it('a refresh for another session id, or without the session cookie, is told to stop', async () => {
			const { browser } = await boundBrowser();
			const other = await boundBrowser();
			const mixed = await suite.app.deviceBinding.refresh(
				browser.request(REFRESH_PATH, { 'sec-secure-session-id': `"${other.session.id}"` }),
				browser.client
			);
			expect(await mixed.json()).toEqual({ session_identifier: other.session.id, continue: false });
			const cookieless = await suite.app.deviceBinding.refresh(
				new Request(`${suite.app.origin}${REFRESH_PATH}`, {
					method: 'POST',
					headers: { 'sec-secure-session-id': `"${browser.sessionId}"` }
				}),
				browser.client
			);
			expect(await cookieless.json()).toEqual({ session_identifier: browser.sessionId, continue: false });
			const unnamed = await suite.app.deviceBinding.refresh(browser.request(REFRESH_PATH), browser.client);
			expect([unnamed.status, await unnamed.text()]).toEqual([400, 'Missing Sec-Secure-Session-Id.']);
		});

		it('a storage fault answers 503: nobody signed in, no credential, no token', async () => {
			const { browser } = await boundBrowser();
			const token = decodeURIComponent(browser.cookie('latchkey.session_token').split('=')[1]!).split('.')[0]!;
			const fault = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
			const database = suite.app.database;
			const broken = (part: 'sessions' | 'codes'): Storage => ({
				...database,
				[part]: new Proxy(database[part], { get: () => () => Promise.reject(fault) })
			});
			for (const part of ['sessions', 'codes'] as const) {
				const binding = createDeviceBinding({
					database: broken(part),
					origin: suite.app.origin,
					secret: suite.app.config.secret,
					cookies: suite.app.config.cookies,
					settings: suite.app.config.deviceBound,
					clock: clock.now
				});
				const event = {
					request: browser.request(REFRESH_PATH, { 'sec-secure-session-id': `"${browser.sessionId}"` }),
					isDataRequest: false,
					locals: {}
				} as unknown as RequestEvent;
				const answer = await databaseFaults({
					event,
					resolve: () => binding.refresh(event.request, browser.client)
				});
				expect(answer.status).toBe(503);
				expect(answer.headers.getSetCookie()).toEqual([]);
				expect(answer.headers.get('secure-session-challenge')).toBeNull();
				expect(await answer.text()).not.toContain(token);
			}
			// An invitation that cannot be stored leaves the sign-in's answer as it was: an unbound session.
			const binding = createDeviceBinding({
				database: broken('codes'),
				origin: suite.app.origin,
				secret: suite.app.config.secret,
				cookies: suite.app.config.cookies,
				settings: suite.app.config.deviceBound,
				logError: (line) => lines.push(line)
			});
			const lines: string[] = [];
			const answer = await binding.invite(browser.sessionId!, new Response(null, { status: 303 }));
			expect(answer.headers.get('secure-session-registration')).toBeNull();
			expect(lines).toEqual([
				'latchkey: could not invite a device-bound session: the database server cannot be reached (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432)'
			]);
		});
	});

	describe('ending a session ends its binding', () => {
		it.each([
			[
				'revoked from another device',
				async (_: TestApp, ended: { session: { id: string }; user: { id: string } }, other: string) =>
					revokeOwnSession(
						{ userId: ended.user.id, sessionId: other, ipAddress: null, userAgent: null },
						ended.session.id,
						suite.app.services
					)
			],
			[
				'revoked by token',
				async (_: TestApp, ended: { session: { token: string } }) =>
					revokeSession(suite.app.services, ended.session.token, { log: { event: 'revoked', reason: 'cli' } })
			],
			[
				'signed out everywhere',
				async (_: TestApp, ended: { session: { id: string }; user: { id: string } }) =>
					revokeAllSessions(
						{ userId: ended.user.id, sessionId: ended.session.id, ipAddress: null, userAgent: null },
						suite.app.services
					)
			]
		])('%s: the refresh answers continue false, and the credential no longer signs in', async (_, end) => {
			const bound = await boundBrowser();
			await end(suite.app, bound, 'another-session');
			const answer = await bound.browser.refresh();
			expect([answer.status, await answer.json()]).toEqual([
				200,
				{ session_identifier: bound.session.id, continue: false }
			]);
			expect(answer.headers.getSetCookie()).toEqual([]);
			expect((await bound.browser.visit()).session).toBeNull();
		});

		it('a session past its idle time is told to stop too', async () => {
			const { browser, session } = await boundBrowser();
			clock.advance(session.idleSeconds + 1);
			expect(await (await browser.refresh()).json()).toEqual({ session_identifier: session.id, continue: false });
		});
	});

	it('the devices page says which sessions are bound to their device', async () => {
		const { browser, session, user } = await boundBrowser();
		const actor = { userId: user.id, sessionId: session.id, ipAddress: null, userAgent: null };
		expect((await listSessions(actor, suite.app.services, clock.ms)).map((device) => device.bound)).toEqual([true]);
		expect(browser.sessionId).toBe(session.id);
	});

	it('a session that never registered behaves as before: no credential asked for', async () => {
		const { browser, session } = await signInBrowser();
		for (let step = 0; step < 4; step++) {
			clock.advance(LIFETIME_SECONDS);
			const visit = await browser.visit();
			expect(visit.session?.id).toBe(session.id);
			expect(visit.session?.deviceKey).toBeNull();
		}
		expect(browser.refreshes).toEqual([]);
	});

	it('with DEVICE_BOUND_SESSIONS=off no sign-in is invited, and sessions work as before', async () => {
		const off = await startTestApp(suite.app.config.database, { clock, database: suite.app.database });
		expect(off.deviceBinding.enabled).toBe(false);
		const { browser, invitation, created, session } = await signInBrowser(off);
		expect(created).toBe(session.id);
		expect(invitation).toBeNull();
		clock.advance(LIFETIME_SECONDS * 2);
		expect((await browser.visit()).session?.id).toBe(session.id);
		expect(browser.refreshes).toEqual([]);
	});
});
