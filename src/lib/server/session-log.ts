import { createHmac } from 'node:crypto';

export type SessionLogEvent = 'created' | 'refreshed' | 'revoked' | 'expired';

export interface SessionLog {
	session(event: SessionLogEvent, sessionId: string, fields?: Record<string, string | number | boolean | null>): void;
}

/**
 * Structured log lines about sessions, one JSON object per line. A session is named by a
 * salted hash of its id — stable, so an operator can follow one session through the logs,
 * but useless to anybody who reads them; the token is never logged.
 */
export function createSessionLog(
	secret: string,
	write: (line: string) => void = (line) => console.log(line)
): SessionLog {
	const salt = createHmac('sha256', secret).update('latchkey session log').digest();
	return {
		session(event, sessionId, fields = {}) {
			write(
				// The standard fields last, so no caller's field can replace the hashed reference.
				JSON.stringify({
					...fields,
					time: new Date().toISOString(),
					level: 'info',
					event: `session.${event}`,
					session: sessionReference(salt, sessionId)
				})
			);
		}
	};
}

function sessionReference(salt: Buffer, sessionId: string): string {
	return createHmac('sha256', salt).update(sessionId).digest('hex').slice(0, 16);
}
