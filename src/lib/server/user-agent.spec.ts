import { describe, expect, it } from 'vitest';
import { boundUserAgent, describeDevice, MAX_USER_AGENT_LENGTH } from './user-agent';

const CHROME_MAC =
	'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('describeDevice', () => {
	const KNOWN: Array<[string, string]> = [
		[CHROME_MAC, 'Chrome 131 on macOS'],
		[
			'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
			'Safari on iPhone'
		],
		[
			'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
			'Safari on iPad'
		],
		[
			'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
			'Safari on macOS'
		],
		[
			'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
			'Chrome 131 on iPhone'
		],
		['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on Windows'],
		[
			'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
			'Chrome 131 on Android'
		],
		[
			'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
			'Edge 131 on Windows'
		],
		[
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
			'Chrome Headless 131 on Linux'
		]
	];

	it.each(KNOWN)('describes %s', (userAgent, expected) => {
		expect(describeDevice(userAgent)).toBe(expected);
	});

	const UNKNOWN: Array<[string, string | null | undefined]> = [
		['curl', 'curl/8.5.0'],
		['an empty string', ''],
		['null', null],
		['undefined', undefined],
		['whitespace', ' \t\n ']
	];

	it.each(UNKNOWN)('calls %s an unknown device', (_, userAgent) => {
		expect(describeDevice(userAgent)).toBe('Unknown device');
	});

	const HOSTILE: Array<[string, string]> = [
		['a 10 KB string', 'a'.repeat(10 * 1024)],
		['a 10 KB string after a real user agent', `${CHROME_MAC} ${'x'.repeat(10 * 1024)}`],
		['a script tag', '<script>alert(1)</script>'],
		['an attribute breakout', '"><img src=x onerror=alert(1)>'],
		['markup inside a user agent', 'Mozilla/5.0 (<script>alert(1)</script>) Chrome/131.0.0.0'],
		['control characters', 'Mozilla/5.0 \u0000\u0007\u001b[31m\r\n(X11; Linux x86_64) Firefox/133.0\u007f'],
		['lone surrogates', 'Mozilla/5.0 \ud800 Chrome/131.0.0.0 \udfff']
	];

	it.each(HOSTILE)('survives %s', (_, userAgent) => {
		let description: unknown;
		expect(() => (description = describeDevice(userAgent))).not.toThrow();
		expect(typeof description).toBe('string');
		expect(description).not.toBe('');
	});

	it('still reads a real user agent followed by 10 KB of junk', () => {
		expect(describeDevice(`${CHROME_MAC} ${'x'.repeat(10 * 1024)}`)).toBe('Chrome 131 on macOS');
	});
});

describe('boundUserAgent', () => {
	it('keeps an ordinary user agent as it is', () => {
		expect(boundUserAgent(CHROME_MAC)).toBe(CHROME_MAC);
	});

	it('keeps no user agent as none', () => {
		expect(boundUserAgent(null)).toBeNull();
		expect(boundUserAgent(undefined)).toBeNull();
	});

	it('cuts 10 KB to the first 512 characters', () => {
		const stored = boundUserAgent(`${CHROME_MAC} ${'x'.repeat(10 * 1024)}`);
		expect(stored).toHaveLength(MAX_USER_AGENT_LENGTH);
		expect(stored!.startsWith(CHROME_MAC)).toBe(true);
	});

	it('never cuts a surrogate pair in half', () => {
		const stored = boundUserAgent(`${'a'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀 and more`);
		expect(Array.from(stored!)).toHaveLength(MAX_USER_AGENT_LENGTH);
		expect(stored!.endsWith('😀')).toBe(true);
	});

	it('leaves markup as the text it is: the page escapes it', () => {
		const markup = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';
		expect(boundUserAgent(markup)).toBe(markup);
	});

	const INVISIBLE: Array<[string, string, string]> = [
		['a NUL and C0 controls', 'Mozilla/5.0\u0000\u0001\u001f(X11)', 'Mozilla/5.0   (X11)'],
		['a tab, CR and LF', 'Mozilla/5.0\t(X11)\r\n', 'Mozilla/5.0 (X11)  '],
		['DEL and C1 controls (Latin-1 header bytes)', 'Mozilla\u007f/5.0\u0085\u009b31m', 'Mozilla /5.0  31m'],
		['bidi overrides and isolates', 'Chrome\u202e/131\u2066x\u2069\u202c', 'Chrome /131 x  '],
		['zero-width characters and a BOM', '\ufeffChr\u200bome\u200d', ' Chr ome '],
		['lone surrogates', 'Chrome\ud800/131\udfff', 'Chrome /131 ']
	];

	it.each(INVISIBLE)('makes %s spaces', (_, userAgent, stored) => {
		expect(boundUserAgent(userAgent)).toBe(stored);
	});
});
