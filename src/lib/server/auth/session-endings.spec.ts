import { describe, expect, it } from 'vitest';
import { signSessionToken } from './cookies';
import { createSessionEndings, ENDED_MESSAGES, endedMessage, endingHash, endingKey } from './session-endings';

const SECRET = 'unit-test-secret-0123456789abcdefghijklmn';
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';

/** The reasons the sessions' endings use (session log `reason`), one shared vocabulary. */
const VOCABULARY = [
	'idle',
	'absolute-lifetime',
	'revoked',
	'others',
	'everywhere',
	'session-limit',
	'ip-change',
	'cli',
	'account-deleted',
	'email-changed',
	'sign-out'
];

describe('endedMessage', () => {
	it('has a sentence of its own for every reason of the shared vocabulary', () => {
		expect(Object.keys(ENDED_MESSAGES).sort()).toEqual([...VOCABULARY].sort());
		for (const reason of VOCABULARY) expect(endedMessage(reason), reason).not.toBe(endedMessage('not-a-reason'));
	});

	it('says plainly what happened', () => {
		expect(endedMessage('revoked')).toBe('You were signed out from another device.');
		expect(endedMessage('everywhere')).toBe('You were signed out everywhere.');
		expect(endedMessage('cli')).toBe('You were signed out by an administrator.');
		expect(endedMessage('account-deleted')).toBe('Your account was deleted.');
		// The user's own sign-out: the plain signed-out sentence, no reason.
		expect(endedMessage('sign-out')).toBe('You are signed out.');
	});

	it('answers any other reason, an inherited property name included, with the plain sentence', () => {
		for (const reason of ['future-reason', 'constructor', '__proto__', 'toString', ''])
			expect(endedMessage(reason), reason).toBe('Your session has ended.');
	});
});

describe('endingHash', () => {
	it('is 64 hex characters, one per token, and neither the token nor its cookie signature', () => {
		const key = endingKey(SECRET);
		const hash = endingHash(key, TOKEN);
		expect(hash).toMatch(/^[0-9a-f]{64}$/);
		expect(endingHash(key, TOKEN)).toBe(hash);
		expect(endingHash(key, `${TOKEN}x`)).not.toBe(hash);
		expect(endingHash(endingKey(`${SECRET}x`), TOKEN)).not.toBe(hash);
		const signature = Buffer.from(signSessionToken(TOKEN, SECRET).split('.')[1]!, 'base64').toString('hex');
		expect(hash).not.toBe(signature);
		expect(hash).not.toContain(TOKEN);
	});
});

describe('createSessionEndings', () => {
	it('stores hashes, kept for the given time, and finds them by token', async () => {
		const stored = new Map<string, { reason: string; endedAt: Date; expiresAt: Date }>();
		const endings = createSessionEndings(
			{
				record: async (hashes, reason, endedAt, expiresAt) => {
					for (const hash of hashes) stored.set(hash, { reason, endedAt, expiresAt });
				},
				find: async (hash, now) => {
					const row = stored.get(hash);
					return row && row.expiresAt > now ? row : null;
				}
			},
			SECRET,
			{ keptMs: 1000, clock: () => 5000 }
		);
		await endings.record([TOKEN], 'revoked');
		expect([...stored.keys()]).toEqual([endingHash(endingKey(SECRET), TOKEN)]);
		expect([...stored.values()][0]).toEqual({ reason: 'revoked', endedAt: new Date(5000), expiresAt: new Date(6000) });
		expect(await endings.find(TOKEN)).toBe('revoked');
		expect(await endings.find(TOKEN, 5999)).toBe('revoked');
		expect(await endings.find(TOKEN, 6000)).toBeNull();
		expect(await endings.find(`${TOKEN}x`)).toBeNull();
	});

	it('never fails an ending: a refused write or read is logged without the token', async () => {
		const lines: string[] = [];
		const refused = async () => {
			throw new Error(`database refused ${'x'.repeat(3)}`);
		};
		const endings = createSessionEndings({ record: refused, find: refused }, SECRET, {
			logError: (line) => lines.push(line)
		});
		await expect(endings.record([TOKEN, `${TOKEN}2`], 'revoked')).resolves.toBeUndefined();
		await expect(endings.find(TOKEN)).resolves.toBeNull();
		expect(lines).toHaveLength(2);
		expect(lines[0]).toContain('could not record why 2 session(s) ended');
		expect(lines[1]).toContain('could not read why a session ended');
		for (const line of lines) expect(line).not.toContain(TOKEN);
	});

	it('writes nothing for no tokens', async () => {
		let calls = 0;
		const endings = createSessionEndings({ record: async () => void calls++, find: async () => null }, SECRET);
		await endings.record([], 'revoked');
		expect(calls).toBe(0);
	});
});
