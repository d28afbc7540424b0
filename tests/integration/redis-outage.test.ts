import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
	deleteAccount,
	revokeOwnSession,
	revokeAllSessions,
	revokeOtherSessions,
	revokeCurrentSession,
	sessionRevoker,
	type Actor
} from '../../src/lib/server/auth/sessions';
import { createNetworkWatch } from '../../src/lib/server/auth/network-watch';
import { CACHE_RETRY_MS } from '../../src/lib/server/auth/cached-copies';
import { createRedis, redisReady } from '../../src/lib/server/redis';
import { newVisitor, sessionCookieFrom, signIn, startTestApp, type TestApp } from './support/app';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from './support/databases';
import { startOwnRedis, type OwnRedis } from './support/redis-server';
import { sessionRows, updateSessionRow } from './support/rows';

/**
 * With REDIS_URL, Better Auth keeps a copy of every session in Redis (key: the token, and the
 * user's `active-sessions-<userId>` list). Ending a session must never depend on that copy:
 * these tests sign in with a Redis of their own, kill it, end sessions every way the app can,
 * and start it again with what it held before.
 */
const KEY_PREFIX = 'latchkey:auth:';

describe.each(DIALECTS)('ending sessions with Redis on %s', (dialect) => {
	let scratch: ScratchDatabase;
	let ownRedis: OwnRedis;
	let redis: Redis;
	let app: TestApp;
	let people = 0;

	beforeAll(async () => {
		scratch = await createScratchDatabase(dialect);
		ownRedis = await startOwnRedis();
		redis = createRedis(ownRedis.url);
		await redisReady(redis, 5000);
		app = await startTestApp(scratch.target, { redis });
	});

	afterAll(async () => {
		redis?.disconnect();
		await app?.database.close();
		await ownRedis?.remove();
		await scratch?.drop();
	});

	interface Device {
		email: string;
		cookie: string;
		token: string;
		actor: Actor;
	}

	async function signInDevice(email: string): Promise<Device> {
		const visitor = newVisitor();
		const cookie = sessionCookieFrom(await signIn(app, email, { visitor }));
		const { user, session } = await app.validator.validateSessionCookie(cookie);
		const actor = {
			userId: user!.id,
			sessionId: session!.id,
			ipAddress: visitor.address,
			userAgent: visitor.userAgent
		};
		return { email, cookie, token: session!.token, actor };
	}

	async function person(devices: number): Promise<Device[]> {
		people += 1;
		const email = `person-${dialect}-${people}@example.com`;
		const signedIn: Device[] = [];
		for (let i = 0; i < devices; i++) signedIn.push(await signInDevice(email));
		return signedIn;
	}

	const signedIn = async (device: Device) =>
		(await app.validator.validateSessionCookie(device.cookie)).session !== null;
	/** What Better Auth itself would answer for the token (its getSession reads Redis first). */
	const betterAuthFinds = async (device: Device) =>
		(await (await app.auth.$context).internalAdapter.findSession(device.token)) !== null;
	const cachedCopy = async (device: Device) => (await redis.exists(`${KEY_PREFIX}${device.token}`)) === 1;
	async function listedInCache(device: Device): Promise<boolean> {
		const list = await redis.get(`${KEY_PREFIX}active-sessions-${device.actor.userId}`);
		return list !== null && (JSON.parse(list) as { token: string }[]).some((entry) => entry.token === device.token);
	}

	it('removes the Redis copy of every session it ends while Redis is up', async () => {
		const [laptop, phone, tablet, watch] = await person(4);
		const [deleted] = await person(1);
		const [leaving] = await person(1);
		const [replaced] = await person(1);
		for (const device of [laptop!, phone!, tablet!, watch!, deleted!, leaving!, replaced!]) {
			expect(await cachedCopy(device)).toBe(true);
			expect(await listedInCache(device)).toBe(true);
		}

		await revokeOwnSession(laptop!.actor, phone!.actor.sessionId, app.services);
		expect([await cachedCopy(phone!), await listedInCache(phone!), await listedInCache(laptop!)]).toEqual([
			false,
			false,
			true
		]);
		await revokeOtherSessions(laptop!.actor, app.services);
		await revokeAllSessions(laptop!.actor, app.services);
		await deleteAccount(deleted!.actor, app.services);
		await revokeCurrentSession(leaving!.actor, app.services);
		// Signing in again from a browser that has a session replaces it (the fixation defence).
		const replacement = sessionCookieFrom(await signIn(app, replaced!.email, { cookie: replaced!.cookie }));

		for (const device of [laptop!, phone!, tablet!, watch!, deleted!, leaving!, replaced!]) {
			expect([await signedIn(device), await betterAuthFinds(device)]).toEqual([false, false]);
			expect([await cachedCopy(device), await listedInCache(device)]).toEqual([false, false]);
		}
		expect(await app.validator.validateSessionCookie(replacement)).toMatchObject({
			session: { userId: replaced!.actor.userId }
		});
	});

	it('ends sessions every way while Redis is down, answers as usual, and nothing comes back with Redis', async () => {
		const [laptop, phone, tablet, watch] = await person(4);
		const [deleted, deletedPhone] = await person(2);
		const [leaving, staying] = await person(2);
		const [everywhere, everywherePhone] = await person(2);
		const [aged] = await person(1);
		const [roaming] = await person(1);
		const errors = vi.spyOn(console, 'error');
		try {
			// What Redis holds now comes back when it starts again: every copy, ended or not.
			await ownRedis.snapshot();
			await ownRedis.stop();
			await vi.waitFor(() => expect(redis.status).not.toBe('ready'));

			expect(await revokeOwnSession(laptop!.actor, phone!.actor.sessionId, app.services)).not.toBeNull();
			expect(await revokeOtherSessions(laptop!.actor, app.services)).toBe(2);
			await revokeCurrentSession(leaving!.actor, app.services);
			expect(await revokeAllSessions(everywhere!.actor, app.services)).toBe(2);
			await deleteAccount(deleted!.actor, app.services);
			// The validator ends a session past its absolute lifetime; the network watch one used elsewhere.
			await updateSessionRow(app.database, aged!.actor.sessionId, { absoluteExpiresAt: new Date(Date.now() - 1000) });
			const watchNetworks = createNetworkWatch({
				revokeSession: sessionRevoker(app.services),
				database: app.database,
				revokeOnChange: true
			});
			const { session: roamingSession } = await app.validator.validateSessionCookie(roaming!.cookie);
			expect(await watchNetworks(roamingSession!, '192.0.2.150', null)).toBe('revoked');

			const ended = [phone!, tablet!, watch!, leaving!, everywhere!, everywherePhone!, deleted!, deletedPhone!];
			const refused = await Promise.all([...ended, aged!, roaming!].map(signedIn));
			console.log(
				`ended with Redis down (${dialect}): ${refused.filter((still) => !still).length} of ${refused.length} refused`
			);
			expect(refused.every((still) => !still)).toBe(true);
			expect([await signedIn(laptop!), await signedIn(staying!)]).toEqual([true, true]);
			const rows = await sessionRows(app.database);
			for (const device of [...ended, aged!, roaming!]) {
				expect(rows.some((row) => row.token === device.token)).toBe(false);
			}
			const logged = errors.mock.calls.map((call) => call.join(' ')).join('\n');
			expect(logged).toContain('could not clear the cached copy');
			for (const device of [...ended, aged!, roaming!, laptop!, staying!]) expect(logged).not.toContain(device.token);

			await ownRedis.start();
			await redisReady(redis, 10_000);
			// The copies from before the outage are back in Redis until the retry clears them.
			await vi.waitFor(
				async () => {
					for (const device of [...ended, aged!, roaming!]) {
						expect([await cachedCopy(device), await listedInCache(device)]).toEqual([false, false]);
					}
				},
				{ timeout: CACHE_RETRY_MS * 3, interval: 200 }
			);
			for (const device of [...ended, aged!, roaming!]) {
				expect([await signedIn(device), await betterAuthFinds(device)]).toEqual([false, false]);
			}
			expect([await cachedCopy(laptop!), await signedIn(laptop!), await betterAuthFinds(laptop!)]).toEqual([
				true,
				true,
				true
			]);
		} finally {
			errors.mockRestore();
		}
	}, 60_000);
});
