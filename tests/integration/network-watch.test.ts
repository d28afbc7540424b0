import { describe, expect, it } from 'vitest';
import { createNetworkWatch } from '../../src/lib/server/auth/network-watch';
import { sessionRevoker } from '../../src/lib/server/auth/sessions';
import { listSecurityEvents } from '../../src/lib/server/security-log';
import { newVisitor, sessionCookieFrom, signIn } from './support/app';
import { DIALECTS } from './support/databases';
import {
	sessionRows,
	withNetworkWritesRefused,
	withSecurityEventsRefused,
	withSessionDeletesRefused
} from './support/rows';
import { useScratchApp } from './support/suite';

/**
 * The network watch fails closed: a fault between its steps (a write refused, a timeout)
 * never leaves a new network known without its event, never leaves a session going on that
 * should have ended, and reaches the caller (hooks.server.ts refuses the request).
 */
describe.each(DIALECTS)('network watch faults on %s', (dialect) => {
	const suite = useScratchApp(dialect);
	let people = 0;
	const NEW_ADDRESS = '198.51.100.40';

	function watch(revokeOnChange: boolean) {
		return createNetworkWatch({
			revokeSession: sessionRevoker(suite.app.services),
			database: suite.app.database,
			revokeOnChange
		});
	}

	async function signedInSession() {
		people += 1;
		const cookie = sessionCookieFrom(
			await signIn(suite.app, `watched-${dialect}-${people}@example.com`, { visitor: newVisitor() })
		);
		const { session } = await suite.app.validator.validateSessionCookie(cookie);
		return { cookie, session: session! };
	}

	async function knownNetworksOf(sessionId: string): Promise<string | null> {
		return (await sessionRows(suite.app.database)).find((row) => row.id === sessionId)?.knownNetworks ?? null;
	}

	async function networkChanges(userId: string) {
		return (await listSecurityEvents(suite.app.database, userId, 1)).events.filter(
			(event) => event.type === 'SUSPICIOUS_IP_CHANGE'
		);
	}

	const outcome = (check: Promise<unknown>) =>
		check.then(
			(verdict) => `answered ${String(verdict)}`,
			() => 'threw'
		);

	it('reporting: when the event cannot be stored, the network stays unknown and the check throws', async () => {
		const { session } = await signedInSession();
		const reporting = watch(false);

		const refused = await withSecurityEventsRefused(suite.app.database, () =>
			outcome(reporting({ ...session }, NEW_ADDRESS, null))
		);
		const networksAfterFault = await knownNetworksOf(session.id);
		console.log(`report whose event fails (${dialect}): ${refused}; known networks after: "${networksAfterFault}"`);
		expect(refused).toBe('threw');
		expect(networksAfterFault).toBe('');
		expect(await networkChanges(session.userId)).toHaveLength(0);

		// The next request from there reports it, once.
		expect(await reporting({ ...session }, NEW_ADDRESS, null)).toBe('reported');
		expect(await knownNetworksOf(session.id)).toBe(NEW_ADDRESS);
		expect(await networkChanges(session.userId)).toHaveLength(1);
	});

	it('reporting: when the network cannot be recorded, the event is rolled back and the check throws', async () => {
		const { session } = await signedInSession();
		const refused = await withNetworkWritesRefused(suite.app.database, () =>
			outcome(watch(false)({ ...session }, NEW_ADDRESS, null))
		);
		expect(refused).toBe('threw');
		expect(await knownNetworksOf(session.id)).toBe('');
		expect(await networkChanges(session.userId)).toHaveLength(0);
	});

	it('revoking: when the session cannot be ended, the network stays unknown and the check throws', async () => {
		const { cookie, session } = await signedInSession();
		const revoking = watch(true);

		const refused = await withSessionDeletesRefused(suite.app.database, () =>
			outcome(revoking({ ...session }, NEW_ADDRESS, null))
		);
		const networksAfterFault = await knownNetworksOf(session.id);
		console.log(`revocation that fails (${dialect}): ${refused}; known networks after: "${networksAfterFault}"`);
		expect(refused).toBe('threw');
		expect(networksAfterFault).toBe('');
		expect(await networkChanges(session.userId)).toHaveLength(0);

		// The next request from there ends it.
		expect(await revoking({ ...session }, NEW_ADDRESS, null)).toBe('revoked');
		expect((await suite.app.validator.validateSessionCookie(cookie)).session).toBeNull();
		expect(await networkChanges(session.userId)).toMatchObject([{ detail: { revoked: true } }]);
	});

	it('revoking: the session ends first, so an event that cannot be stored leaves it ended', async () => {
		const { cookie, session } = await signedInSession();
		const refused = await withSecurityEventsRefused(suite.app.database, () =>
			outcome(watch(true)({ ...session }, NEW_ADDRESS, null))
		);
		const stillSignedIn = (await suite.app.validator.validateSessionCookie(cookie)).session !== null;
		console.log(`revocation whose event fails (${dialect}): ${refused}; session still works: ${stillSignedIn}`);
		expect(refused).toBe('threw');
		expect(stillSignedIn).toBe(false);
		expect(await knownNetworksOf(session.id)).toBeNull();
	});

	it('revoking: requests arriving together from the new network are all refused, and reported once', async () => {
		const { cookie, session } = await signedInSession();
		const revoking = watch(true);
		const verdicts = await Promise.all(Array.from({ length: 10 }, () => revoking({ ...session }, NEW_ADDRESS, null)));
		expect(verdicts).toEqual(Array.from({ length: 10 }, () => 'revoked'));
		expect((await suite.app.validator.validateSessionCookie(cookie)).session).toBeNull();
		expect(await networkChanges(session.userId)).toHaveLength(1);
	});
});
