import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { peerHooks, PeerSourceError } from './peers';

const checkedOut = readFileSync(new URL('../src/hooks.server.ts', import.meta.url), 'utf8');

const minimal = (sessionHandle: string, sequence = 'sequence(first, sessionLocals, last)') => `
import type { Handle } from '@sveltejs/kit/hooks';
const first: Handle = ({ event, resolve }) => resolve(event);
${sessionHandle}
const last: Handle = ({ event, resolve }) => resolve(event);
export const handle = ${sequence};
`;

describe('peerHooks', () => {
	it('replaces the checked-out session hook and nothing else', () => {
		const generated = peerHooks(checkedOut);
		const sequence = generated.slice(generated.indexOf('export const handle = sequence('));
		expect(sequence.slice(0, sequence.indexOf(');'))).toMatch(/\bbenchPeerSessionLocals\(\),/);
		expect(sequence.slice(0, sequence.indexOf(');'))).not.toMatch(/\bsessionLocals\b/);
		// Everything before the replaced handle is as checked out.
		const before = checkedOut.slice(0, checkedOut.indexOf('sessionLocals,', checkedOut.indexOf('export const handle')));
		expect(generated.startsWith(before)).toBe(true);
		expect(generated).toContain('export const handle = sequence(');
	});

	it('finds the handle however it is defined', () => {
		const generated = peerHooks(
			minimal('const sessionLocals: Handle = async function ({ event, resolve }) { return resolve(event); };')
		);
		expect(generated).toContain('export const handle = sequence(first, benchPeerSessionLocals(), last);');
	});

	it('fails with a clear message when there is no sessionLocals handle', () => {
		const source = minimal('const sessions: Handle = ({ event, resolve }) => resolve(event);', 'sequence(first, last)');
		expect(() => peerHooks(source)).toThrow(PeerSourceError);
		expect(() => peerHooks(source)).toThrow(/no longer includes `sessionLocals`.*update bench\/peers\.ts/);
	});

	it('fails with a clear message when the exported handle no longer uses it', () => {
		const source = minimal(
			'const sessionLocals: Handle = ({ event, resolve }) => resolve(event);',
			'sequence(first, last)'
		);
		expect(() => peerHooks(source)).toThrow(/exported `handle` no longer includes `sessionLocals`/);
	});
});
