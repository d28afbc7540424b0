import { describe, expect, it } from 'vitest';
import { describeDevice } from './device';

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
