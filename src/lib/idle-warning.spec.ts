import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	clockOffset,
	createIdleTimer,
	formatRemaining,
	idleTimesFor,
	laterTimes,
	phaseAt,
	type IdlePhase
} from './idle-warning';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** The server's clock when it answered. */
const SERVER_NOW = Date.UTC(2026, 11, 7, 10, 0, 0);

describe('idleTimesFor', () => {
	const session = { expiresAt: new Date(SERVER_NOW + 10 * MINUTE), idleSeconds: 600 };

	it('sends the idle end, the server clock and the warning', () => {
		expect(idleTimesFor(session, 120, SERVER_NOW)).toEqual({
			expiresAt: SERVER_NOW + 10 * MINUTE,
			serverNow: SERVER_NOW,
			warnMs: 2 * MINUTE
		});
	});

	it('sends nothing when IDLE_WARNING is off', () => {
		expect(idleTimesFor(session, null, SERVER_NOW)).toBeNull();
	});

	it('warns not at all for a session whose idle time is no longer than the warning', () => {
		expect(idleTimesFor({ ...session, idleSeconds: 120 }, 120, SERVER_NOW)?.warnMs).toBeNull();
	});
});

describe('phaseAt', () => {
	const times = { expiresAt: SERVER_NOW + 10 * MINUTE, warnMs: 2 * MINUTE };

	it.each<[number, IdlePhase]>([
		[SERVER_NOW, 'active'],
		[SERVER_NOW + 8 * MINUTE - 1, 'active'],
		[SERVER_NOW + 8 * MINUTE, 'warning'],
		[SERVER_NOW + 10 * MINUTE, 'warning'],
		[SERVER_NOW + 10 * MINUTE + 1, 'ended']
	])('at %i is %s', (at, phase) => {
		expect(phaseAt(times, at)).toBe(phase);
	});

	it('never warns without a warning, and still ends', () => {
		expect(phaseAt({ ...times, warnMs: null }, SERVER_NOW + 10 * MINUTE)).toBe('active');
		expect(phaseAt({ ...times, warnMs: null }, SERVER_NOW + 10 * MINUTE + 1)).toBe('ended');
	});
});

describe('createIdleTimer', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	/** A timer on this browser's (fake) clock, recording each phase it reports. */
	function recording() {
		const phases: IdlePhase[] = [];
		const timer = createIdleTimer((phase) => phases.push(phase));
		return { timer, phases, last: () => phases.at(-1) };
	}

	it.each([
		['agrees with the server', 0],
		['is five minutes fast', 5 * MINUTE],
		['is an hour slow', -60 * MINUTE],
		['is a day fast', DAY]
	])('warns at the server’s expiresAt − warning and ends after expiresAt when the browser clock %s', (_, skew) => {
		vi.setSystemTime(SERVER_NOW + skew);
		const { timer, last } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		expect(last()).toBe('active');

		vi.advanceTimersByTime(8 * MINUTE - 1);
		expect(last()).toBe('active');
		vi.advanceTimersByTime(1);
		expect(last()).toBe('warning');
		expect(timer.remainingMs()).toBe(2 * MINUTE);

		vi.advanceTimersByTime(2 * MINUTE);
		expect(last()).toBe('warning');
		vi.advanceTimersByTime(1);
		expect(last()).toBe('ended');
		expect(timer.remainingMs()).toBe(0);
		expect(vi.getTimerCount()).toBe(0);
	});

	it('shows the warning at once when the answer arrives inside the warning time', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, phases } = recording();
		timer.update({ expiresAt: SERVER_NOW + MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		expect(phases).toEqual(['warning']);
	});

	it('starts over from new times: a slid session closes the warning', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, last } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		vi.advanceTimersByTime(9 * MINUTE);
		expect(last()).toBe('warning');

		timer.update({ expiresAt: SERVER_NOW + 19 * MINUTE, serverNow: SERVER_NOW + 9 * MINUTE, warnMs: 2 * MINUTE });
		expect(last()).toBe('active');
		vi.advanceTimersByTime(8 * MINUTE - 1);
		expect(last()).toBe('active');
		vi.advanceTimersByTime(1);
		expect(last()).toBe('warning');
	});

	it('reaches an idle end beyond the longest timeout a browser runs, in steps, on time', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, last } = recording();
		timer.update({ expiresAt: SERVER_NOW + 30 * DAY, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		vi.advanceTimersByTime(25 * DAY);
		expect(last()).toBe('active');
		vi.advanceTimersByTime(5 * DAY - 2 * MINUTE);
		expect(last()).toBe('warning');
	});

	it('checks the clock when a timeout fires late, as after sleep', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, phases } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		// The computer sleeps: the clock jumps past the idle end before any timeout runs.
		vi.setSystemTime(SERVER_NOW + 20 * MINUTE);
		vi.runOnlyPendingTimers();
		expect(phases).toEqual(['active', 'ended']);
	});

	it('ends without a warning when there is none', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, phases } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: null });
		vi.advanceTimersByTime(10 * MINUTE + 1);
		expect(phases).toEqual(['active', 'ended']);
	});

	it('reports nothing more once stopped', () => {
		vi.setSystemTime(SERVER_NOW);
		const { timer, phases } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		timer.stop();
		vi.advanceTimersByTime(20 * MINUTE);
		expect(phases).toEqual(['active']);
		expect(timer.current()).toBeNull();
	});

	it('tells other tabs the idle end and the server clock now, not the stale one it was given', () => {
		vi.setSystemTime(SERVER_NOW - 3 * MINUTE);
		const { timer } = recording();
		timer.update({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW, warnMs: 2 * MINUTE });
		vi.advanceTimersByTime(MINUTE);
		expect(timer.current()).toEqual({ expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW + MINUTE });
	});
});

describe('clockOffset', () => {
	it('is the server clock minus the browser clock', () => {
		expect(clockOffset(SERVER_NOW, SERVER_NOW - 5 * SECOND)).toBe(5 * SECOND);
	});
});

describe('laterTimes', () => {
	const mine = { expiresAt: SERVER_NOW + 10 * MINUTE, warnMs: 2 * MINUTE };

	it('takes a later idle end from another tab', () => {
		const message = { expiresAt: SERVER_NOW + 20 * MINUTE, serverNow: SERVER_NOW };
		expect(laterTimes(message, mine)).toEqual(message);
	});

	it.each([
		['an earlier idle end', { expiresAt: SERVER_NOW, serverNow: SERVER_NOW }],
		['the same idle end', { expiresAt: SERVER_NOW + 10 * MINUTE, serverNow: SERVER_NOW }],
		['text', 'later'],
		['null', null],
		['strings for numbers', { expiresAt: String(SERVER_NOW + DAY), serverNow: String(SERVER_NOW) }],
		['no server clock', { expiresAt: SERVER_NOW + DAY }],
		['infinity', { expiresAt: Infinity, serverNow: SERVER_NOW }]
	])('ignores %s', (_, message) => {
		expect(laterTimes(message, mine)).toBeNull();
	});
});

describe('formatRemaining', () => {
	it.each([
		[2 * MINUTE, '2 minutes'],
		[MINUTE + 5 * SECOND, '1 minute 5 seconds'],
		[MINUTE + 1, '1 minute 1 second'],
		[45 * SECOND, '45 seconds'],
		[SECOND, '1 second'],
		[0, '0 seconds'],
		[-SECOND, '0 seconds']
	])('%i ms is "%s"', (ms, text) => {
		expect(formatRemaining(ms)).toBe(text);
	});
});
