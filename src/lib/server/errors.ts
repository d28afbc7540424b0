/**
 * An error's message made safe for a log line. Drizzle's query errors carry the query's
 * parameters (`params: <session token>, …`) in their message; those are dropped, and the
 * driver's own reason (the cause) is used instead.
 */
export function safeErrorMessage(error: unknown): string {
	if (!(error instanceof Error)) return String(error).split('\nparams:')[0]!;
	const cause = error.cause instanceof Error ? error.cause : null;
	const message = cause && /^Failed query/.test(error.message) ? cause.message : error.message;
	return message.split('\nparams:')[0]!.replace(/^Failed query: [\s\S]*/, 'database query failed');
}
