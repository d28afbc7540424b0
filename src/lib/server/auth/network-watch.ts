import type { Database } from '../db';
import { networkOf } from '../ip-network';
import { recordSecurityEvent } from '../security-log';
import type { SessionLog } from '../session-log';
import type { Session } from './instance';
import type { EndSession } from './session';
import type { SessionStore } from './session-store';

export type NetworkVerdict = 'known' | 'reported' | 'revoked';

export interface NetworkWatchOptions {
	store: SessionStore;
	endSession: EndSession;
	database: Database;
	log: SessionLog;
	/** IP_CHANGE_REVOKES: end the session instead of only reporting (default under high-security). */
	revokeOnChange: boolean;
}

/** Enough to recognise a roaming phone's usual networks without the column growing forever. */
const MAX_KNOWN_NETWORKS = 32;

/**
 * Watches for a session used from a network it was not signed in from (seed: "Security
 * Considerations"). Each new network is reported once per session — the session row keeps
 * the networks already reported, so the common case (same network) costs nothing and
 * concurrent requests from a new network report it once, on every instance.
 */
export function createNetworkWatch({ store, endSession, database, log, revokeOnChange }: NetworkWatchOptions) {
	return async function check(
		session: Session,
		clientAddress: string,
		userAgent: string | null
	): Promise<NetworkVerdict> {
		if (!session.ipAddress) return 'known';
		const network = networkOf(clientAddress);
		const reported = session.knownNetworks ? session.knownNetworks.split(',') : [];
		if (network === networkOf(session.ipAddress) || reported.includes(network)) return 'known';

		const next = [...reported, network].slice(-MAX_KNOWN_NETWORKS).join(',');
		if (!(await store.recordNetworks(session.id, next, session.knownNetworks ?? ''))) {
			// A concurrent request changed the row first: it reports the change (and, when told to,
			// ends the session) — this one must not be served on a session that is being ended.
			return revokeOnChange ? 'revoked' : 'known';
		}
		await recordSecurityEvent(database, {
			userId: session.userId,
			sessionId: session.id,
			type: 'SUSPICIOUS_IP_CHANGE',
			ipAddress: clientAddress,
			userAgent,
			detail: { from: session.ipAddress, to: clientAddress, revoked: revokeOnChange }
		});
		if (!revokeOnChange) return 'reported';
		await endSession(session.token);
		log.session('revoked', session.id, { user: session.userId, reason: 'ip-change' });
		return 'revoked';
	};
}

export type NetworkWatch = ReturnType<typeof createNetworkWatch>;
