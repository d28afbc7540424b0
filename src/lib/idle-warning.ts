/**
 * When a signed-in page warns that its session is about to end for inactivity, and when it
 * moves to sign-in. The server sends the times (the root layout's data): the session's idle end
 * and its own clock, so a browser whose clock is wrong still warns on time. Pure apart from the
 * timers, so that the tests drive it with fake ones.
 */

/** What the server tells a signed-in page about its session's idle end. Times in ms since the epoch. */
export interface IdleTimes {
	/** When the session ends unless used, by the server's clock. */
	expiresAt: number;
	/** The server's clock when it answered. */
	serverNow: number;
	/** How long before expiresAt the warning shows; null for no warning, only the move to sign-in. */
	warnMs: number | null;
}

/** Before the warning, during it, after the idle end. */
export type IdlePhase = 'active' | 'warning' | 'ended';

/**
 * The times a page gets for its session: none when IDLE_WARNING is off. A session whose own idle
 * time is no longer than the warning (created under another policy) would be warned about as soon
 * as it is used, so it gets no warning, only the move to sign-in.
 */
export function idleTimesFor(
	session: { expiresAt: Date; idleSeconds: number },
	warningSeconds: number | null,
	serverNow: number
): IdleTimes | null {
	if (warningSeconds === null) return null;
	return {
		expiresAt: session.expiresAt.getTime(),
		serverNow,
		warnMs: warningSeconds < session.idleSeconds ? warningSeconds * 1000 : null
	};
}

/**
 * The server's clock minus this browser's, from an answer received at `receivedAt`. The answer
 * travelled for a while, so this is early by that much: the page moves to sign-in a little after
 * the server's idle end, never before it.
 */
export function clockOffset(serverNow: number, receivedAt: number): number {
	return serverNow - receivedAt;
}

/** The phase at `serverNow`: a session is valid up to and including its expiresAt, as the validator says. */
export function phaseAt(times: Pick<IdleTimes, 'expiresAt' | 'warnMs'>, serverNow: number): IdlePhase {
	if (serverNow > times.expiresAt) return 'ended';
	if (times.warnMs !== null && serverNow >= times.expiresAt - times.warnMs) return 'warning';
	return 'active';
}

/** Browsers run a timeout longer than this at once; a later moment is reached in steps. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

export interface IdleTimer {
	/** New times from the server (a page load, an action) or another tab; the timer starts over from them. */
	update(times: IdleTimes): void;
	/** The idle end and the server's clock now, as this tab knows them: what it tells the other tabs. */
	current(): { expiresAt: number; serverNow: number } | null;
	/** Milliseconds until the idle end by the server's clock; 0 once past it. */
	remainingMs(): number;
	stop(): void;
}

/**
 * Calls `onPhase` with the phase now and at each change: at the warning, at the idle end. It
 * checks the clock again when a timeout fires rather than trusting it to be on time, since a
 * background tab's timeouts are delayed and a sleeping computer's are late.
 */
export function createIdleTimer(onPhase: (phase: IdlePhase) => void, now: () => number = () => Date.now()): IdleTimer {
	let times: IdleTimes | null = null;
	let offset = 0;
	let timeout: ReturnType<typeof setTimeout> | undefined;

	const serverNow = () => now() + offset;

	function check(): void {
		clearTimeout(timeout);
		timeout = undefined;
		if (!times) return;
		const at = serverNow();
		const phase = phaseAt(times, at);
		onPhase(phase);
		if (phase === 'ended') return;
		// The idle end is "after expiresAt": one millisecond past it.
		const next = phase === 'active' && times.warnMs !== null ? times.expiresAt - times.warnMs : times.expiresAt + 1;
		timeout = setTimeout(check, Math.min(Math.max(next - at, 0), LONGEST_TIMEOUT_MS));
	}

	return {
		update(next) {
			times = next;
			offset = clockOffset(next.serverNow, now());
			check();
		},
		current: () => (times ? { expiresAt: times.expiresAt, serverNow: serverNow() } : null),
		remainingMs: () => (times ? Math.max(times.expiresAt - serverNow(), 0) : 0),
		stop() {
			clearTimeout(timeout);
			times = null;
		}
	};
}

/**
 * A message from another tab of this browser: only times, and only when they are numbers. Its
 * idle end counts only when later than this tab's, that is, when another tab's request slid the
 * session; an earlier one is an older answer.
 */
export function laterTimes(
	message: unknown,
	mine: Pick<IdleTimes, 'expiresAt' | 'warnMs'>
): Pick<IdleTimes, 'expiresAt' | 'serverNow'> | null {
	if (typeof message !== 'object' || message === null) return null;
	const { expiresAt, serverNow } = message as Record<string, unknown>;
	if (typeof expiresAt !== 'number' || typeof serverNow !== 'number') return null;
	if (!Number.isFinite(expiresAt) || !Number.isFinite(serverNow)) return null;
	return expiresAt > mine.expiresAt ? { expiresAt, serverNow } : null;
}

/** "2 minutes", "1 minute 5 seconds", "45 seconds": the time left, rounded up to the second. */
export function formatRemaining(ms: number): string {
	const total = Math.max(Math.ceil(ms / 1000), 0);
	const minutes = Math.floor(total / 60);
	const seconds = total % 60;
	const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
	if (minutes === 0) return plural(seconds, 'second');
	return seconds === 0 ? plural(minutes, 'minute') : `${plural(minutes, 'minute')} ${plural(seconds, 'second')}`;
}
