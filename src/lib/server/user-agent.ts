import { UAParser } from 'ua-parser-js';

/** Real user agents are a few hundred characters at most; anything beyond is not worth keeping. */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * A user agent as stored: whatever a client sent, cut to MAX_USER_AGENT_LENGTH characters
 * (never half a surrogate pair), with control and invisible formatting characters (a tab,
 * the C1 controls a Latin-1 header byte decodes to, bidi overrides) each made a space. It is
 * shown as text on /account, so it must read as the text it appears to be.
 */
export function boundUserAgent(userAgent: string | null | undefined): string | null {
	if (userAgent === null || userAgent === undefined) return null;
	const codePoints = Array.from(userAgent.slice(0, MAX_USER_AGENT_LENGTH * 2)).slice(0, MAX_USER_AGENT_LENGTH);
	return codePoints.join('').replace(/\p{C}/gu, ' ');
}

const OS_NAMES: Record<string, string> = { 'Mac OS': 'macOS', iOS: 'iOS', Windows: 'Windows', Android: 'Android' };

/**
 * A user agent in words: "Chrome 131 on macOS", "Safari on iPhone", "Firefox 133 on Windows".
 * Safari's version is its OS's, so it is left out; iPhones and iPads are named as such.
 */
export function describeDevice(userAgent: string | null | undefined): string {
	if (!userAgent?.trim()) return 'Unknown device';
	const { browser, os, device } = new UAParser(userAgent.slice(0, 1024)).getResult();
	const browserName = browser.name?.replace(/^Mobile /, '');
	if (!browserName) return 'Unknown device';
	const major = browserName === 'Safari' ? undefined : browser.major;
	// "iPhone" says more than "iOS"; an Android model number ("SM-G991B") says less than "Android".
	const applePhoneOrTablet = device.vendor === 'Apple' && (device.type === 'mobile' || device.type === 'tablet');
	const platform = applePhoneOrTablet && device.model ? device.model : os.name ? (OS_NAMES[os.name] ?? os.name) : null;
	return `${browserName}${major ? ` ${major}` : ''}${platform ? ` on ${platform}` : ''}`;
}
