/** Error messages end up in logs: never echo a password from a connection URL. */
export function redactCredentials(url: string): string {
	// Greedy up to the last `@` before the path: a password may itself contain `@`.
	return url.replace(/\/\/[^/]*@/, '//***@').replace(/([?&](?:password|pass|pwd)=)[^&]*/gi, '$1***');
}
