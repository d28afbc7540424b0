import type { NetworksChange, Storage } from '../db/port';
import { networkOf } from '../ip-network';
import { recordSecurityEvent, securityEventRow, type NewSecurityEvent } from '../security-log';
import type { SessionLog } from '../session-log';
import type { Session } from './instance';
import type { EndSession } from './session';

export type NetworkVerdict = 'known' | 'reported' | 'revoked';

export interface NetworkWatchOptions {
	/** Ends a session (revocation.ts); true when this call ended it. */
	endSession: EndSession;
	database: Storage;
	log: SessionLog;
	/** IP_CHANGE_REVOKES: end the session instead of only reporting (default under high-security). */
	revokeOnChange: boolean;
}

/** Enough to recognise a roaming phone's usual networks without the column growing forever. */
const MAX_KNOWN_NETWORKS = 32;

/**
 * Watches for a session used from a network it was not signed in from (seed: "Security
 * Considerations"). Fails closed: any error reaches the caller, which refuses the request.
 *
 * - Reporting: the event and the network join the session row in one transaction, the row
 *   written only if no other request changed its networks since this one read them. So each
 *   new network is reported once per session, by concurrent requests on every instance too,
 *   and a network is never known without its event.
 * - Revoking (IP_CHANGE_REVOKES): the session ends first and the network is never recorded;
 *   the request that ended it records the event, concurrent ones find it ended.
 */
export function createNetworkWatch({ endSession, database, log, revokeOnChange }: NetworkWatchOptions) {
	return async function check(
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
			if (await endSession(session.token)) {
				log.session('revoked', session.id, { user: session.userId, reason: 'ip-change' });
				await recordSecurityEvent(database, event);
			}
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
