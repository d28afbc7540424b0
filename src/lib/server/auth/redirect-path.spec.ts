import { describe, expect, it } from 'vitest';
import { safeRedirectPath } from './redirect-path';

const ORIGIN = 'https://latchkey.example';

const ACCEPTED: Array<[string, string]> = [
	['/', '/'],
	['/account', '/account'],
	['/account?tab=1#x', '/account?tab=1#x'],
	['/a/b/c', '/a/b/c'],
	['/search?q=%2F%2Fevil', '/search?q=%2F%2Fevil'],
	['/a/../account', '/account'],
	['/' + 'a'.repeat(2047), '/' + 'a'.repeat(2047)],
	// Unicode slashes after a real one are path characters to every browser: kept, percent-encoded.
	['/\uFF0Fevil.com', '/%EF%BC%8Fevil.com'],
	['/\u2215evil.com', '/%E2%88%95evil.com']
];

const REFUSED: Array<[string, unknown]> = [
	['protocol-relative URL', '//evil.com'],
	['absolute https URL', 'https://evil.com'],
	['absolute http URL with a path', 'http://evil.com/path'],
	['slash backslash', '/\\evil.com'],
	['double backslash', '\\\\evil.com'],
	['slash backslash slash', '/\\/evil.com'],
	['javascript: URL', 'javascript:alert(1)'],
	['mixed-case javascript: URL', 'JaVaScRiPt:alert(1)'],
	['data: URL', 'data:text/html,x'],
	['encoded slashes after the first', '/%2F%2Fevil.com'],
	['encoded backslash', '/%5Cevil.com'],
	['encoded backslashes', '/%5C%5Cevil.com'],
	['encoded protocol-relative URL', '%2F%2Fevil.com'],
	['tab between slashes', '/\t/evil.com'],
	['newline between slashes', '/\n/evil.com'],
	['carriage return between slashes', '/\r/evil.com'],
	['encoded tab between slashes', '/%09/evil.com'],
	['triple slash', '///evil.com'],
	['quadruple slash', '////evil.com'],
	['bare host name', 'evil.com'],
	['empty string', ''],
	['path longer than 2048 characters', '/' + 'a'.repeat(3000)],
	['path of 2049 characters', '/' + 'a'.repeat(2048)],
	['double-encoded slashes', '/%252F%252Fevil.com'],
	['triple-encoded slashes', '/%25252F%25252Fevil.com'],
	['scheme without slashes', 'https:evil.com'],
	['dot segment collapsing to //', '/.//evil.com'],
	['dot-dot segment collapsing to //', '/..//evil.com'],
	['encoded dot-dot segment collapsing to //', '/%2e%2e//evil.com'],
	['leading space before //', ' //evil.com'],
	['undefined', undefined],
	['null', null],
	['number', 42],
	['array holding a path', ['/x']],
	['object', { toString: () => '/account' }],
	['look-alike host', 'http://localhost.evil.com'],
	['own host as user info', 'https://latchkey.example@evil.com'],
	['fullwidth solidi', '\uFF0F\uFF0Fevil.com'],
	['division slashes', '\u2215\u2215evil.com'],
	['lower-case encoded slashes', '/%2f%2fevil.com'],
	['lower-case encoded backslashes', '/%5c%5cevil.com'],
	['encoded dot segments before encoded slashes', '/%2e%2e%2f%2fevil.com'],
	['half-encoded dot-dot segment collapsing to //', '/.%2e//evil.com'],
	['vbscript: URL', 'vbscript:msgbox(1)'],
	['encoded CRLF (header injection)', '/%0D%0ASet-Cookie:x=y']
];

describe('safeRedirectPath', () => {
	it.each(ACCEPTED)('keeps %j as %j', (raw, expected) => {
		expect(safeRedirectPath(raw)).toBe(expected);
		expect(safeRedirectPath(raw, '/fallback')).toBe(expected);
	});

	it.each(REFUSED)('refuses a %s', (_label, raw) => {
		expect(safeRedirectPath(raw)).toBe('/');
		expect(safeRedirectPath(raw, '/account')).toBe('/account');
	});

	it('never leaves the origin, for accepted and refused inputs alike', () => {
		const inputs = [...ACCEPTED.map(([raw]) => raw), ...REFUSED.map(([, raw]) => raw)];
		const sameOrigin = (result: string) => result.startsWith('/') && new URL(result, ORIGIN).origin === ORIGIN;
		const offsite = inputs.filter((raw) => !sameOrigin(safeRedirectPath(raw)));
		console.log(
			`open redirect: ${inputs.length} redirectTo vectors tried (${REFUSED.length} to refuse, ${ACCEPTED.length} to keep as paths); ${inputs.length - offsite.length}/${inputs.length} resolved to a same-origin path`
		);
		expect(REFUSED.length).toBeGreaterThanOrEqual(20);
		expect(offsite.map((raw) => JSON.stringify(raw))).toEqual([]);
	});

	it('percent-encodes what it keeps, so the result needs no further escaping', () => {
		expect(safeRedirectPath('/ /evil.com')).toBe('/%20/evil.com');
		expect(safeRedirectPath('/café?x=é')).toBe('/caf%C3%A9?x=%C3%A9');
	});
});
