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
	it('replaces the checked-out session hook and response scheduling, and nothing else', () => {
		const generated = peerHooks(checkedOut);
		const sequence = generated.slice(generated.indexOf('export const handle = sequence('));
		expect(sequence.slice(0, sequence.indexOf(');'))).toMatch(
			/\bbenchPeerEndOfTurn\(\),\s*benchPeerSessionLocals\(\),/
		);
		expect(sequence.slice(0, sequence.indexOf(');'))).not.toMatch(/\bsessionLocals\b|\brespondAtEndOfTurn\b/);
		// Everything before the first replaced handle is as checked out.
		const before = checkedOut.slice(
			0,
			checkedOut.indexOf('respondAtEndOfTurn,', checkedOut.indexOf('export const handle'))
		);
		expect(generated.startsWith(before)).toBe(true);
		expect(generated).toContain('export const handle = sequence(');
	});

	it('leaves the response scheduling to the peer that keeps it, and builds without it when there is none', () => {
		const withIt = peerHooks(
			minimal(
				'const sessionLocals: Handle = ({ event, resolve }) => resolve(event);\nconst respondAtEndOfTurn = first;',
				'sequence(first, respondAtEndOfTurn, sessionLocals, last)'
			)
		);
		expect(withIt).toContain(
			'export const handle = sequence(first, benchPeerEndOfTurn(), benchPeerSessionLocals(), last);'
		);
		expect(withIt).toContain("=== 'no-session-end-of-turn') return respondAtEndOfTurn;");
		const without = peerHooks(minimal('const sessionLocals: Handle = ({ event, resolve }) => resolve(event);'));
		expect(without).not.toContain('benchPeerEndOfTurn');
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
