import { describe, expect, it } from 'vitest';
import {
	deleteAccount,
	listSessions,
	revokeOwnSession,
	revokeAllSessions,
	revokeOtherSessions,
	revokeCurrentSession,
	sessionRevoker,
	type Actor
} from '../../src/lib/server/auth/sessions';
import { createNetworkWatch } from '../../src/lib/server/auth/network-watch';
import { listSecurityEvents, SECURITY_LOG_PAGE_SIZE } from '../../src/lib/server/security-log';
import { newVisitor, sessionCookieFrom, signIn, type Visitor } from './support/app';
import { DIALECTS } from './support/databases';
import { useScratchApp } from './support/suite';
import { sessionRows, withSessionDeletesRefused } from './support/rows';

const CHROME_MAC =
	'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe.each(DIALECTS)('devices and revocation on %s', (dialect) => {
	let people = 0;
	const suite = useScratchApp(dialect);

	interface Device {
		cookie: string;
		actor: Actor;
		visitor: Visitor;
	}

	/** Signs `email` in from a new browser and returns it as the actor the pages would build. */
	async function signInDevice(email: string, userAgent = CHROME_MAC): Promise<Device> {
		const visitor = { ...newVisitor(), userAgent };
		const cookie = sessionCookieFrom(await signIn(suite.app, email, { visitor }));
		const { user, session } = await suite.app.validator.validateSessionCookie(cookie);
		const actor = { userId: user!.id, sessionId: session!.id, ipAddress: visitor.address, userAgent };
		return { cookie, actor, visitor };
	}

	/** Three devices for one person and one for somebody else, whose session must survive everything. */
	async function household() {
		people += 1;
		const email = `owner-${dialect}-${people}@example.com`;
		const laptop = await signInDevice(email, CHROME_MAC);
		const phone = await signInDevice(email, SAFARI_IPHONE);
		const tablet = await signInDevice(email);
		const stranger = await signInDevice(`stranger-${dialect}-${people}@example.com`);
		return { laptop, phone, tablet, stranger };
	}

	const signedIn = async (device: Device) =>
		(await suite.app.validator.validateSessionCookie(device.cookie)).session !== null;

	async function eventTypes(userId: string): Promise<string[]> {
		return (await listSecurityEvents(suite.app.database, userId, 1)).events.map((event) => event.type);
	}

	it('lists the active sessions of one user, newest activity first, with the current one marked', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		const devices = await listSessions(phone.actor, suite.app.services);
		expect(devices.map((device) => device.id).sort()).toEqual(
			[laptop.actor.sessionId, phone.actor.sessionId, tablet.actor.sessionId].sort()
		);
		expect(devices.filter((device) => device.current).map((device) => device.id)).toEqual([phone.actor.sessionId]);
		expect(devices.find((device) => device.id === phone.actor.sessionId)?.description).toBe('Safari on iPhone');
		expect(devices.find((device) => device.id === laptop.actor.sessionId)).toMatchObject({
			description: 'Chrome 131 on macOS',
			ipAddress: laptop.visitor.address,
			policy: 'standard'
		});
		const activity = devices.map((device) => device.lastActiveAt.getTime());
		expect(activity).toEqual([...activity].sort((a, b) => b - a));
		expect(devices.some((device) => device.id === stranger.actor.sessionId)).toBe(false);
		expect(JSON.stringify(devices)).not.toMatch(/token/i);
	});

	it('revokes one of the user’s own sessions, and nobody else’s whatever id is posted', async () => {
		const { laptop, phone, stranger } = await household();
		expect(await revokeOwnSession(laptop.actor, stranger.actor.sessionId, suite.app.services)).toBeNull();
		expect(await revokeOwnSession(laptop.actor, 'no-such-session', suite.app.services)).toBeNull();
		expect(await signedIn(stranger)).toBe(true);

		const revoked = await revokeOwnSession(laptop.actor, phone.actor.sessionId, suite.app.services);
		expect(revoked?.description).toBe('Safari on iPhone');
		expect(await signedIn(phone)).toBe(false);
		expect(await signedIn(laptop)).toBe(true);
		expect(await eventTypes(laptop.actor.userId)).toContain('SESSION_REVOKED');
		expect(suite.app.logLines.some((line) => line.includes('"event":"session.revoked"'))).toBe(true);
	});

	it('signs this device out, and never reports it while the session still works (its delete failing)', async () => {
		const { laptop, phone } = await household();

		const refused = await withSessionDeletesRefused(suite.app.database, () =>
			revokeCurrentSession(laptop.actor, suite.app.services).then(
				() => 'reported signed out',
				() => 'threw'
			)
		);
		const stillSignedIn = await signedIn(laptop);
		const eventsWhileRefused = await eventTypes(laptop.actor.userId);
		await revokeCurrentSession(laptop.actor, suite.app.services);
		console.log(
			`sign-out whose delete fails (${dialect}): ${refused}, session still works: ${stillSignedIn}, ` +
				`SIGN_OUT recorded: ${eventsWhileRefused.includes('SIGN_OUT')}; retried: signed in ${await signedIn(laptop)}`
		);

		expect(refused).toBe('threw');
		expect(stillSignedIn).toBe(true);
		expect(eventsWhileRefused).not.toContain('SIGN_OUT');
		expect(await signedIn(laptop)).toBe(false);
		expect(await signedIn(phone)).toBe(true);
		expect(await eventTypes(laptop.actor.userId)).toContain('SIGN_OUT');
	});

	it('signs out the other devices and keeps this one', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		expect(await revokeOtherSessions(laptop.actor, suite.app.services)).toBe(2);
		expect([await signedIn(laptop), await signedIn(phone), await signedIn(tablet)]).toEqual([true, false, false]);
		expect(await signedIn(stranger)).toBe(true);
		const [latest] = (await listSecurityEvents(suite.app.database, laptop.actor.userId, 1)).events;
		expect(latest).toMatchObject({ type: 'SIGNED_OUT_OTHERS', detail: { sessions: 2 } });
	});

	it('signs out everywhere: every session of this user, no one else’s', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		const strangerRowsBefore = (await sessionRows(suite.app.database)).filter(
			(row) => row.userId === stranger.actor.userId
		).length;
		expect(await revokeAllSessions(phone.actor, suite.app.services)).toBe(3);
		expect([await signedIn(laptop), await signedIn(phone), await signedIn(tablet)]).toEqual([false, false, false]);
		const rows = await sessionRows(suite.app.database);
		expect(rows.filter((row) => row.userId === phone.actor.userId)).toHaveLength(0);
		expect(rows.filter((row) => row.userId === stranger.actor.userId)).toHaveLength(strangerRowsBefore);
		expect(await eventTypes(phone.actor.userId)).toContain('SIGNED_OUT_EVERYWHERE');
	});

	it('deletes an account with all its sessions and keeps the event without the email', async () => {
		const { laptop, phone, tablet, stranger } = await household();
		await deleteAccount(laptop.actor, suite.app.services);
		const stillIn = [laptop, phone, tablet, stranger].map(signedIn);
		expect(await Promise.all(stillIn)).toEqual([false, false, false, true]);
		expect((await sessionRows(suite.app.database)).some((row) => row.userId === laptop.actor.userId)).toBe(false);
		const { events } = await listSecurityEvents(suite.app.database, laptop.actor.userId, 1);
		expect(events[0]).toMatchObject({ type: 'ACCOUNT_DELETED', detail: { sessions: 3 } });
		expect(JSON.stringify(events)).not.toContain('@example.com');
	});

	it('records sign-ins with method, address and device, and pages the log', async () => {
		const email = `busy-${dialect}@example.com`;
		const devices: Device[] = [];
		for (let i = 0; i < SECURITY_LOG_PAGE_SIZE + 3; i++) devices.push(await signInDevice(email));
		const userId = devices[0]!.actor.userId;
		const first = await listSecurityEvents(suite.app.database, userId, 1);
		const second = await listSecurityEvents(suite.app.database, userId, 2);
		expect(first).toMatchObject({ page: 1, pages: 2, total: SECURITY_LOG_PAGE_SIZE + 3 });
		expect(first.events).toHaveLength(SECURITY_LOG_PAGE_SIZE);
		expect(second.events).toHaveLength(3);
		expect(first.events[0]).toMatchObject({
			type: 'SIGN_IN',
			ipAddress: devices.at(-1)!.visitor.address,
			userAgent: CHROME_MAC,
			detail: { method: 'email-otp' }
		});
		const times = [...first.events, ...second.events].map((event) => event.createdAt.getTime());
		expect(times).toEqual([...times].sort((a, b) => b - a));
	});

	it('reports each new network once per session, compares IPv6 by /64, and revokes when told to', async () => {
		const device = await signInDevice(`roamer-${dialect}@example.com`);
		const watch = createNetworkWatch({
			revokeSession: sessionRevoker(suite.app.services),
			database: suite.app.database,
			revokeOnChange: false
		});
		const requestFrom = async (address: string) => {
			const { session } = await suite.app.validator.validateSessionCookie(device.cookie);
			return watch(session!, address, CHROME_MAC);
		};
		expect(await requestFrom(device.visitor.address)).toBe('known');
		expect(await requestFrom('198.51.100.20')).toBe('reported');
		expect(await requestFrom('198.51.100.20')).toBe('known');
		expect(await requestFrom('2001:db8:7:8::1')).toBe('reported');
		expect(await requestFrom('2001:db8:7:8:ffff::2')).toBe('known');
		expect(await requestFrom('198.51.100.21')).toBe('reported');
		const changes = (await listSecurityEvents(suite.app.database, device.actor.userId, 1)).events.filter(
			(event) => event.type === 'SUSPICIOUS_IP_CHANGE'
		);
		expect(changes.map((event) => event.ipAddress)).toEqual(['198.51.100.21', '2001:db8:7:8::1', '198.51.100.20']);
		expect(changes.at(-1)!.detail).toMatchObject({ from: device.visitor.address, to: '198.51.100.20' });

		const strict = await signInDevice(`strict-${dialect}@example.com`);
		const revoking = createNetworkWatch({
			revokeSession: sessionRevoker(suite.app.services),
			database: suite.app.database,
			revokeOnChange: true
		});
		const { session } = await suite.app.validator.validateSessionCookie(strict.cookie);
		expect(await revoking(session!, '192.0.2.99', CHROME_MAC)).toBe('revoked');
		expect(await signedIn(strict)).toBe(false);
	});

	it('reports a new network once when many requests arrive from it at the same moment', async () => {
		const device = await signInDevice(`burst-${dialect}@example.com`);
		const watch = createNetworkWatch({
			revokeSession: sessionRevoker(suite.app.services),
			database: suite.app.database,
			revokeOnChange: false
		});
		const { session } = await suite.app.validator.validateSessionCookie(device.cookie);
		const verdicts = await Promise.all(Array.from({ length: 20 }, () => watch({ ...session! }, '198.51.100.77', null)));
		expect(verdicts.filter((verdict) => verdict === 'reported')).toHaveLength(1);
		const changes = (await listSecurityEvents(suite.app.database, device.actor.userId, 1)).events.filter(
			(event) => event.type === 'SUSPICIOUS_IP_CHANGE'
		);
		expect(changes).toHaveLength(1);
	});

	it('names sessions in the log by a salted hash, never by id or token', async () => {
		const device = await signInDevice(`logged-${dialect}@example.com`);
		const rows = await sessionRows(suite.app.database);
		const row = rows.find((candidate) => candidate.id === device.actor.sessionId)!;
		const lines = suite.app.logLines.filter((line) => line.includes(device.actor.userId));
		expect(lines.length).toBeGreaterThan(0);
		for (const line of suite.app.logLines) {
			expect(line).not.toContain(row.id);
			expect(line).not.toContain(row.token);
		}
		expect(JSON.parse(lines[0]!)).toMatchObject({
			event: 'session.created',
			session: expect.stringMatching(/^[0-9a-f]{16}$/)
		});
	});
});

describe('user agents a client controls', () => {
	const suite = useScratchApp('sqlite');

	it('are stored bounded, whatever their length or content', async () => {
		const hostile = `<script>alert(1)</script>"><img src=x onerror=alert(1)>${'A'.repeat(10_000)}`;
		const cookie = sessionCookieFrom(
			await signIn(suite.app, 'hostile-agent@example.com', { visitor: { ...newVisitor(), userAgent: hostile } })
		);
		const { session } = await suite.app.validator.validateSessionCookie(cookie);
		expect(session?.userAgent?.length).toBe(512);
		expect(hostile.startsWith(session!.userAgent!)).toBe(true);
	});
});
