import type { NetworksChange, Storage } from '../db/port';
import { networkOf } from '../ip-network';
import { securityEventRow, type NewSecurityEvent } from '../security-log';
import type { Session } from './better-auth';
import type { RevokeSession } from './sessions';

export type NetworkVerdict = 'known' | 'reported' | 'revoked';

export interface NetworkWatchOptions {
	/** Ends a session, its log line and event with it (sessions.ts); true when this call ended it. */
	revokeSession: RevokeSession;
	database: Storage;
	/** IP_CHANGE_REVOKES: end the session instead of only reporting (default under high-security). */
	revokeOnChange: boolean;
}

/** Enough to recognise a roaming phone's usual networks without the column growing forever. */
const MAX_KNOWN_NETWORKS = 32;

/**
 * Watches for a session used from a network it was not signed in from (docs/SECURITY.md,
 * "New network"). Fails closed: any error reaches the caller, which refuses the request.
 *
 * - Reporting: the event and the network join the session row in one transaction, the row
 *   written only if no other request changed its networks since this one read them. So each
 *   new network is reported once per session, by concurrent requests on every instance too,
 *   and a network is never known without its event.
 * - Revoking (IP_CHANGE_REVOKES): the session ends first and the network is never recorded;
 *   the request that ended it records the event, concurrent ones find it ended.
 */
export function createNetworkWatch({ revokeSession, database, revokeOnChange }: NetworkWatchOptions) {
	return async function watchNetwork(
		session: Session,
		clientAddress: string,
		userAgent: string | null
	): Promise<NetworkVerdict> {
		if (!session.ipAddress) return 'known';
		const network = networkOf(clientAddress);
		const reported = session.knownNetworks ? session.knownNetworks.split(',') : [];
		if (network === networkOf(session.ipAddress) || reported.includes(network)) return 'known';

		const event: NewSecurityEvent = {
			userId: session.userId,
			sessionId: session.id,
			type: 'SUSPICIOUS_IP_CHANGE',
			ipAddress: clientAddress,
			userAgent,
			detail: { from: session.ipAddress, to: clientAddress, revoked: revokeOnChange }
		};
		if (revokeOnChange) {
			// Only the request that ends it records the event; concurrent ones find it ended.
			await revokeSession(session.token, { log: { event: 'revoked', reason: 'ip-change' }, securityEvent: event });
			return 'revoked';
		}
		const networks = [...reported, network].slice(-MAX_KNOWN_NETWORKS).join(',');
		const change = { sessionId: session.id, networks, seen: session.knownNetworks ?? '' };
		// Lost to a concurrent request: that one reports the network.
		return (await reportOnce(database, event, change)) ? 'reported' : 'known';
	};
}

export type NetworkWatch = ReturnType<typeof createNetworkWatch>;

/**
 * Stores the event and the session's new networks together, or neither: the row is written
 * only while it still holds `seen` (compare-and-set), and losing drops the event.
 */
async function reportOnce(database: Storage, event: NewSecurityEvent, change: NetworksChange): Promise<boolean> {
	return database.sessions.recordNetwork(securityEventRow(event), change);
}
