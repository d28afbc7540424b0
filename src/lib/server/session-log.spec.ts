import { createHash, createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSessionLog, type SessionLogEvent } from './session-log';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const SESSION_ID = 'sess_Q2xhcmVuY2VJc0FTZWNyZXRUb2tlbg';
const NOW = new Date('2026-03-15T12:34:56.789Z');

function capture(secret = SECRET) {
	const lines: string[] = [];
	const log = createSessionLog(secret, (line) => lines.push(line));
	return { log, lines };
}

/** The reference the log must write for a session: its id hashed with a salt only the secret gives. */
function saltedHashOf(sessionId: string, secret = SECRET): string {
	const salt = createHmac('sha256', secret).update('latchkey session log').digest();
	return createHmac('sha256', salt).update(sessionId).digest('hex').slice(0, 16);
}

function referenceOf(sessionId: string, secret = SECRET): string {
	const { log, lines } = capture(secret);
	log.session('created', sessionId);
	return (JSON.parse(lines[0]!) as { session: string }).session;
}

describe('createSessionLog', () => {
	beforeEach(() => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(NOW);
	});

	afterEach(() => {
		vi.useRealTimers();
	});

	it.each<SessionLogEvent>(['created', 'refreshed', 'revoked', 'expired'])(
		'writes one JSON line for a %s session',
		(kind) => {
			const { log, lines } = capture();
			log.session(kind, SESSION_ID, { user: 'user-1', reason: 'idle', count: 3, fresh: false, policy: null });

			expect(lines).toHaveLength(1);
			const line = lines[0]!;
			expect(line).not.toContain('\n');
			const entry = JSON.parse(line) as Record<string, unknown>;
			expect(entry).toEqual({
				time: NOW.toISOString(),
				level: 'info',
				event: `session.${kind}`,
				session: expect.stringMatching(/^[0-9a-f]{16}$/),
				user: 'user-1',
				reason: 'idle',
				count: 3,
				fresh: false,
				policy: null
			});
		}
	);

	it('writes an ISO timestamp of the moment it logs', () => {
		const { log, lines } = capture();
		log.session('created', SESSION_ID);
		vi.setSystemTime(new Date('2026-03-15T12:35:00.000Z'));
		log.session('revoked', SESSION_ID);

		const times = lines.map((line) => (JSON.parse(line) as { time: string }).time);
		expect(times).toEqual(['2026-03-15T12:34:56.789Z', '2026-03-15T12:35:00.000Z']);
	});

	it('writes only the standard fields when given no extra fields', () => {
		const { log, lines } = capture();
		log.session('expired', SESSION_ID);
		expect(Object.keys(JSON.parse(lines[0]!) as object).sort()).toEqual(['event', 'level', 'session', 'time']);
	});

	it('writes one line per call', () => {
		const { log, lines } = capture();
		log.session('created', SESSION_ID);
		log.session('refreshed', SESSION_ID);
		log.session('revoked', SESSION_ID);
		expect(lines).toHaveLength(3);
		expect(lines.map((line) => (JSON.parse(line) as { event: string }).event)).toEqual([
			'session.created',
			'session.refreshed',
			'session.revoked'
		]);
	});

	it('names a session by the same reference every time, across log instances', () => {
		const { log, lines } = capture();
		log.session('created', SESSION_ID);
		log.session('revoked', SESSION_ID, { reason: 'sign-out' });
		const [first, second] = lines.map((line) => (JSON.parse(line) as { session: string }).session);
		expect(first).toMatch(/^[0-9a-f]{16}$/);
		expect(second).toBe(first);
		expect(referenceOf(SESSION_ID)).toBe(first);
	});

	it('names another session by another reference', () => {
		expect(referenceOf('sess_other')).not.toBe(referenceOf(SESSION_ID));
		expect(referenceOf(`${SESSION_ID}x`)).not.toBe(referenceOf(SESSION_ID));
	});

	it('names the same session differently under another secret', () => {
		expect(referenceOf(SESSION_ID, 'another-secret-entirely-0123456789abcdef')).not.toBe(referenceOf(SESSION_ID));
	});

	it('never writes the session id, only its salted hash', () => {
		const ids = [SESSION_ID, '0123456789abcdef0123456789abcdef', 'abcdef0123456789'];
		const kinds: SessionLogEvent[] = ['created', 'refreshed', 'revoked', 'expired'];
		const written = ids.flatMap((id) => {
			const { log, lines } = capture();
			for (const kind of kinds) log.session(kind, id, { user: 'user-1' });
			return lines.map((line) => ({ id, line, reference: (JSON.parse(line) as { session: string }).session }));
		});
		const appearances = written.filter(({ id, line }) => line.includes(id)).length;
		const salted = written.filter(({ id, reference }) => reference === saltedHashOf(id)).length;
		const unsalted = written.filter(({ id, reference }) =>
			createHash('sha256').update(id).digest('hex').includes(reference)
		).length;
		console.log(
			`session log: ${written.length} lines checked (${ids.length} session ids × ${kinds.length} events); raw id appeared ${appearances} times; ${salted}/${written.length} references are the salted hash HMAC-SHA256(HMAC-SHA256(secret, salt label), id); ${unsalted} are the plain SHA-256 of the id`
		);
		expect(written).toHaveLength(ids.length * kinds.length);
		expect(appearances).toBe(0);
		expect(salted).toBe(written.length);
		expect(unsalted).toBe(0);
		for (const { id, reference } of written) expect(id).not.toContain(reference);
	});
});

describe('fields a caller passes', () => {
	it('cannot replace the hashed session reference or the event name', () => {
		const lines: string[] = [];
		createSessionLog('a-secret-of-at-least-32-characters-long', (line) => lines.push(line)).session(
			'revoked',
			'raw-session-id',
			{ session: 'raw-session-id', event: 'forged' } as Record<string, string>
		);
		expect(lines[0]).not.toContain('raw-session-id');
		expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'session.revoked' });
	});
});
