import { createHmac } from 'node:crypto';
import type { SessionEndingRows } from '../db/port';
import { safeErrorMessage } from '../errors';

/**
 * Why a browser's session ended, told to that browser on its next visit to the sign-in page
 * (docs/decisions/0018-why-a-session-ended.md). Every ending that names a reason (the
 * `log.reason` of sessions.ts's endings, the validator's idle end) stores it under a keyed hash
 * of the ended token; the validator asks for it only with a cookie whose signature is valid, so
 * a forged or tampered cookie never causes a lookup, and nothing is read from the URL.
 *
 * Recording comes after the rows are deleted and never fails an ending: a reason that cannot be
 * stored is logged (without the token) and the browser just sees the plain sign-in page.
 */

const DAY_MS = 24 * 3600 * 1000;

/**
 * How long a reason is kept: a browser that comes back later sees the plain sign-in page. Long
 * enough for the usual "next visit", short enough that the table holds little.
 */
export const ENDING_KEPT_MS = 30 * DAY_MS;

export interface SessionEndings {
	/** Stores `reason` for each ended token; a token that already has one keeps it. Never throws. */
	record(tokens: string[], reason: string, now?: number): Promise<void>;
	/** The reason stored for this token's ending, null when none (or when it cannot be read). Never throws. */
	find(token: string, now?: number): Promise<string | null>;
}

export interface SessionEndingsOptions {
	/** How long a reason is kept (ENDING_KEPT_MS by default). */
	keptMs?: number;
	/** Where a failure to record or read a reason is reported; never given a token. */
	logError?: (line: string) => void;
	/** Milliseconds since the epoch, when a call gives no `now`; tests move it instead of sleeping. */
	clock?: () => number;
}

/** The endings of this storage, keyed by HMAC-SHA256 of the token under a key derived from the app secret. */
export function createSessionEndings(
	rows: SessionEndingRows,
	secret: string,
	{ keptMs = ENDING_KEPT_MS, logError = (line) => console.error(line), clock = Date.now }: SessionEndingsOptions = {}
): SessionEndings {
	const key = endingKey(secret);
	return {
		async record(tokens, reason, now = clock()) {
			if (tokens.length === 0) return;
			try {
				await rows.record(
					tokens.map((token) => endingHash(key, token)),
					reason,
					new Date(now),
					new Date(now + keptMs)
				);
			} catch (error) {
				logError(`latchkey: could not record why ${tokens.length} session(s) ended: ${safeErrorMessage(error)}`);
			}
		},
		async find(token, now = clock()) {
			try {
				return (await rows.find(endingHash(key, token), new Date(now)))?.reason ?? null;
			} catch (error) {
				logError(`latchkey: could not read why a session ended: ${safeErrorMessage(error)}`);
				return null;
			}
		}
	};
}

/** A key of its own, so that no other HMAC under the app secret (the cookie's signature) equals a stored hash. */
export function endingKey(secret: string): Buffer {
	return createHmac('sha256', secret).update('latchkey session ending').digest();
}

/** What is stored for a token: 64 hex characters, from which the token cannot be found. */
export function endingHash(key: Buffer, token: string): string {
	return createHmac('sha256', key).update(token).digest('hex');
}

/**
 * The sentence the sign-in page shows for each reason of the shared vocabulary (the session
 * log's `reason`). The user's own sign-out gets the plain signed-out sentence; a reason not in
 * the table still tells the browser its session ended.
 */
export const ENDED_MESSAGES: Readonly<Record<string, string>> = {
	idle: 'You were signed out after a period of inactivity.',
	'absolute-lifetime': 'You were signed out because your session reached its maximum lifetime.',
	revoked: 'You were signed out from another device.',
	others: 'You were signed out from another device.',
	everywhere: 'You were signed out everywhere.',
	'session-limit': 'You were signed out because you reached the limit of signed-in devices.',
	'ip-change': 'You were signed out because your session was used from a new network.',
	cli: 'You were signed out by an administrator.',
	'account-deleted': 'Your account was deleted.',
	'email-changed': 'You were signed out because your email address was changed.',
	'sign-out': 'You are signed out.'
};

const ENDED_OTHERWISE = 'Your session has ended.';

/** The sign-in page's sentence for a stored reason. */
export function endedMessage(reason: string): string {
	return Object.hasOwn(ENDED_MESSAGES, reason) ? ENDED_MESSAGES[reason]! : ENDED_OTHERWISE;
}
