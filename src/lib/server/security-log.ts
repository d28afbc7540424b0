import { randomUUID } from 'node:crypto';
import type { SecurityEventRow, Storage } from './db/port';
import { boundUserAgent } from './user-agent';

/** What the security log records. Stored as text; never holds a token or an email address. */
export const SECURITY_EVENT_TYPES = [
	'SIGN_IN',
	'SIGN_OUT',
	'SESSION_REVOKED',
	'SIGNED_OUT_OTHERS',
	'SIGNED_OUT_EVERYWHERE',
	'SESSION_LIMIT_REACHED',
	'SIGN_IN_REFUSED',
	'SIGN_OUT_LINK_SENT',
	'REAUTHENTICATED',
	'SUSPICIOUS_IP_CHANGE',
	'ACCOUNT_DELETED',
	'EMAIL_CHANGED',
	'DEVICE_BOUND',
	'DEVICE_PROOF_REFUSED'
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export interface NewSecurityEvent {
	userId: string;
	type: SecurityEventType;
	sessionId?: string | null;
	ipAddress?: string | null;
	userAgent?: string | null;
	/** Small facts about the event (counts, method, addresses); bounded when stored. */
	detail?: Record<string, string | number | boolean | null>;
	at?: Date;
}

export interface SecurityEvent {
	id: string;
	type: SecurityEventType;
	createdAt: Date;
	ipAddress: string | null;
	userAgent: string | null;
	detail: Record<string, unknown>;
}

const MAX_DETAIL_LENGTH = 2048;

/** Appends one event. A user agent is whatever a client sent: it is stored bounded. */
export async function recordSecurityEvent(database: Storage, event: NewSecurityEvent): Promise<void> {
	await database.securityEvents.record(securityEventRow(event));
}

/** The row an event is stored as, bounded; for a caller that writes it inside its own transaction. */
export function securityEventRow(event: NewSecurityEvent): SecurityEventRow {
	return {
		id: randomUUID(),
		userId: event.userId,
		sessionId: event.sessionId ?? null,
		type: event.type,
		createdAt: event.at ?? new Date(),
		ipAddress: event.ipAddress?.slice(0, 64) ?? null,
		userAgent: boundUserAgent(event.userAgent),
		detail: boundedDetail(event.detail ?? {})
	};
}

function boundedDetail(detail: NonNullable<NewSecurityEvent['detail']>): string {
	const json = JSON.stringify(detail);
	return json.length <= MAX_DETAIL_LENGTH ? json : JSON.stringify({ truncated: true });
}

export interface SecurityLogPage {
	events: SecurityEvent[];
	page: number;
	pages: number;
	total: number;
}

export const SECURITY_LOG_PAGE_SIZE = 20;
const MAX_PAGE = 100_000;

/** One page of a user's events, newest first. */
export async function listSecurityEvents(database: Storage, userId: string, page: number): Promise<SecurityLogPage> {
	// Any number a visitor types into ?page= must give a page, not a database error.
	const current = Number.isSafeInteger(page) && page > 1 ? Math.min(page, MAX_PAGE) : 1;
	const offset = (current - 1) * SECURITY_LOG_PAGE_SIZE;
	const { rows, total } = await database.securityEvents.page(userId, SECURITY_LOG_PAGE_SIZE, offset);
	return {
		events: rows.map((row) => ({
			id: row.id,
			type: row.type as SecurityEventType,
			createdAt: row.createdAt,
			ipAddress: row.ipAddress,
			userAgent: row.userAgent,
			detail: parseDetail(row.detail)
		})),
		page: current,
		pages: Math.max(1, Math.ceil(total / SECURITY_LOG_PAGE_SIZE)),
		total
	};
}

function parseDetail(json: string): Record<string, unknown> {
	try {
		const value: unknown = JSON.parse(json);
		return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
	} catch {
		return {};
	}
}
