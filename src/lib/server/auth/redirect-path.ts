const PLACEHOLDER_ORIGIN = 'http://latchkey.invalid';
const MAX_LENGTH = 2048;

/**
 * Turns an untrusted `redirectTo` into a path on this site, or the fallback.
 * Only relative paths starting with a single `/` pass; anything a browser could read as
 * another host (`//evil`, `/\evil`, `https://…`, `javascript:`, encoded or padded forms) fails.
 */
export function safeRedirectPath(raw: unknown, fallback = '/'): string {
	if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_LENGTH) return fallback;
	if (!raw.startsWith('/') || raw.startsWith('//')) return fallback;
	// Browsers treat `\` as `/` and drop tabs and newlines, so `/\evil.com` and `/\t/evil.com` mean `//evil.com`.
	if (raw.includes('\\') || hasControlCharacter(raw)) return fallback;
	let url: URL;
	try {
		url = new URL(raw, PLACEHOLDER_ORIGIN);
	} catch {
		return fallback;
	}
	if (url.origin !== PLACEHOLDER_ORIGIN) return fallback;
	const path = url.pathname + url.search + url.hash;
	// A path that decodes to `//host` or `/\host` is still treated as a path by URL, but some
	// servers and proxies decode before routing; refuse it rather than rely on them.
	return looksLikeHostAfterDecoding(url.pathname) ? fallback : path;
}

function hasControlCharacter(value: string): boolean {
	for (let i = 0; i < value.length; i++) {
		const code = value.charCodeAt(i);
		if (code < 0x20 || code === 0x7f) return true;
	}
	return false;
}

function looksLikeHostAfterDecoding(pathname: string): boolean {
	let decoded = pathname;
	for (let round = 0; round < 3; round++) {
		try {
			const next = decodeURIComponent(decoded);
			if (next === decoded) break;
			decoded = next;
		} catch {
			return true;
		}
	}
	if (hasControlCharacter(decoded)) return true;
	// `/..//evil.com` is `//evil.com` once the dot segments are resolved, as a proxy might.
	const resolved = new URL(`${PLACEHOLDER_ORIGIN}${decoded.replace(/\\/g, '/')}`).pathname;
	return decoded.startsWith('//') || decoded.startsWith('/\\') || resolved.startsWith('//');
}
