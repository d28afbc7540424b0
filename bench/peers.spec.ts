import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { peerHooks, PeerSourceError } from './peers';

const checkedOut = readFileSync(new URL('../src/hooks.server.ts', import.meta.url), 'utf8');

const minimal = (sessionHandle: string, sequence = 'sequence(first, sessionLocals, last)') => `
import type { Handle } from '@sveltejs/kit';
const first: Handle = ({ event, resolve }) => resolve(event);
${sessionHandle}
const last: Handle = ({ event, resolve }) => resolve(event);
export const handle = ${sequence};
`;

describe('peerHooks', () => {
	it('replaces the checked-out session hook and nothing else', () => {
		const generated = peerHooks(checkedOut);
		expect(generated).toContain('const sessionLocals: Handle = benchPeerSessionLocals();');
		expect(generated).not.toContain('getSessionValidator().validateSessionCookie(');
		// Everything before the replaced handle is as checked out.
		const before = checkedOut.slice(0, checkedOut.indexOf('const sessionLocals'));
		expect(generated.startsWith(before)).toBe(true);
		expect(generated).toContain('export const handle = sequence(');
	});

	it('finds the handle whatever its body looks like', () => {
		const generated = peerHooks(
			minimal('const sessionLocals: Handle = async function ({ event, resolve }) { return resolve(event); };')
		);
		expect(generated).toContain('const sessionLocals: Handle = benchPeerSessionLocals();');
		expect(generated).not.toContain('async function ({ event, resolve })');
	});

	it('fails with a clear message when there is no sessionLocals handle', () => {
		const source = minimal('const sessions: Handle = ({ event, resolve }) => resolve(event);', 'sequence(first, last)');
		expect(() => peerHooks(source)).toThrow(PeerSourceError);
		expect(() => peerHooks(source)).toThrow(/no top-level `const sessionLocals = …`.*update bench\/peers\.ts/);
	});

	it('fails with a clear message when the exported handle no longer uses it', () => {
		const source = minimal(
			'const sessionLocals: Handle = ({ event, resolve }) => resolve(event);',
			'sequence(first, last)'
		);
		expect(() => peerHooks(source)).toThrow(/exported `handle` no longer includes `sessionLocals`/);
	});
});
