import { describe, expect, it } from 'vitest';
import { categoryOf, timeByCategory, type CpuProfile } from './profile-categories';

const frame = (functionName: string, url = 'file:///app/build/server/chunks/index.js') => ({ functionName, url });
const native = (functionName: string) => ({ functionName, url: '' });

describe('categoryOf', () => {
	it('puts the HMAC under the cookie signature, whatever native code runs it', () => {
		expect(categoryOf([native('digest'), frame('hmac$1'), frame('verifiedSessionToken'), frame('sessionLocals')])).toBe(
			'cookie signature'
		);
	});

	it('puts a driver by its package, and the storage code by name, under the lookup', () => {
		expect(categoryOf([frame('parse', 'file:///app/node_modules/pg-protocol/dist/parser.js'), frame('emit')])).toBe(
			'session lookup (storage, driver)'
		);
		expect(categoryOf([native('all'), frame('findByTokens'), frame('processImmediate')])).toBe(
			'session lookup (storage, driver)'
		);
	});

	it('counts a hook as a session rule by its own time only, not the page its resolve renders', () => {
		expect(categoryOf([frame('networkWatch'), frame('runMicrotasks', '')])).toBe('session rules, network watch');
		expect(categoryOf([frame('get_header'), frame('resolve'), frame('networkWatch')])).toBe(
			'HTTP, promises, runtime (the rest)'
		);
		expect(categoryOf([frame('escape'), frame('render_response'), frame('resolve'), frame('networkWatch')])).toBe(
			'page rendering (loads, components)'
		);
	});

	it('keeps garbage collection apart', () => {
		expect(categoryOf([native('(garbage collector)')])).toBe('garbage collection');
	});
});

describe('timeByCategory', () => {
	it('gives each sample the time until the next one, and leaves idle time out', () => {
		const profile: CpuProfile = {
			nodes: [
				{ id: 1, callFrame: native('(root)'), children: [2, 3, 4] },
				{ id: 2, callFrame: frame('hmac'), children: [] },
				{ id: 3, callFrame: native('(idle)'), children: [] },
				{ id: 4, callFrame: frame('render_page'), children: [] }
			],
			samples: [2, 3, 4, 2],
			timeDeltas: [0, 100, 250, 40]
		};
		const time = timeByCategory(profile);
		expect(time['cookie signature']).toBe(100);
		expect(time['page rendering (loads, components)']).toBe(40);
		expect(Object.values(time).reduce((a, b) => a + b)).toBe(140);
	});
});
