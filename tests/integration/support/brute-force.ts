import { expect } from 'vitest';
import { CODE_DIGITS } from '../../../src/lib/server/auth/codes';
import { networkOf } from '../../../src/lib/server/ip-network';
import type { SignInLimits, VisitorLimits } from '../../../src/lib/server/rate-limit';

/** What one request came to, as the attacker sees it. */
export type Outcome = 'signed-in' | 'sent' | 'code-checked' | 'limited' | 'server-error' | 'other';

/** The refusals a wrong, expired or killed code gets: the guess reached Better Auth's code check. */
const CODE_CHECK_REFUSAL = /That code is not valid|That code has expired|Too many wrong codes/;

/** How a refused sign-in step (status and the message shown) counts. */
export function refusalOutcome(status: number, message: string): Outcome {
	if (status === 429) return 'limited';
	if (status >= 500) return 'server-error';
	if ((status === 400 || status === 403) && CODE_CHECK_REFUSAL.test(message)) return 'code-checked';
	return 'other';
}

/** The login form's two steps, driven by an attacker: through the sign-in service or over HTTP. */
export interface Attacker {
	/** Asks for a new code to `email`: a code killed by wrong guesses is replaced by a live one. */
	send(email: string, address: string): Promise<Outcome>;
	guess(email: string, address: string, code: string): Promise<Outcome>;
	/** The code last mailed to `email`: wrong guesses avoid it, and it is sent right once the limits have tripped. */
	latestCode(email: string): string | undefined;
}

export interface BruteForcePlan {
	label: string;
	guesses: number;
	/** Guess i goes to emails[i % emails.length] from addresses[i % addresses.length]. */
	emails: string[];
	addresses: string[];
	/** Before every this many guesses at an email, the attacker asks for a new code to it. */
	resendEvery: number;
}

export interface BruteForceTally {
	guesses: Record<Outcome, number>;
	sends: Record<Outcome, number>;
	/** After the wrong guesses, each email's latest code, sent right: the limit must refuse it. */
	rightCodes: Record<Outcome, number>;
}

function noOutcomes(): Record<Outcome, number> {
	return { 'signed-in': 0, sent: 0, 'code-checked': 0, limited: 0, 'server-error': 0, other: 0 };
}

const CODES = 10 ** CODE_DIGITS;
const nthCode = (n: number) => String(n % CODES).padStart(CODE_DIGITS, '0');

/** A well-formed code that is not `right`: the n-th in counting order, skipping the live one. */
export function wrongCode(n: number, right: string | undefined): string {
	const code = nthCode(n);
	return code === right ? nthCode(n + 1) : code;
}

/**
 * Runs the plan one request at a time and counts what each came to; then, the limits tripped,
 * sends each email's latest code (the right one) from the next address in the plan.
 */
export async function bruteForce(plan: BruteForcePlan, attacker: Attacker): Promise<BruteForceTally> {
	const tally: BruteForceTally = { guesses: noOutcomes(), sends: noOutcomes(), rightCodes: noOutcomes() };
	const guessesAt = new Map<string, number>();
	for (let i = 0; i < plan.guesses; i++) {
		const email = plan.emails[i % plan.emails.length]!;
		const address = plan.addresses[i % plan.addresses.length]!;
		const earlier = guessesAt.get(email) ?? 0;
		if (earlier > 0 && earlier % plan.resendEvery === 0) tally.sends[await attacker.send(email, address)] += 1;
		guessesAt.set(email, earlier + 1);
		tally.guesses[await attacker.guess(email, address, wrongCode(i, attacker.latestCode(email)))] += 1;
	}
	for (const [k, email] of [...new Set(plan.emails)].entries()) {
		const address = plan.addresses[(plan.guesses + k) % plan.addresses.length]!;
		tally.rightCodes[await attacker.guess(email, address, attacker.latestCode(email) ?? '')] += 1;
	}
	return tally;
}

/**
 * The published limits (docs/CONFIGURATION.md, "Sign-in codes and limits") applied to a plan: at most this
 * many of its guesses may reach a code check, and at most this many codes may be sent in all.
 * The attacker has no known-device cookie, so the per-email ceiling holds it; the plan runs
 * within one 15-minute window of the app's clock, which the tests hold still.
 */
export function publishedBounds(limits: SignInLimits, plan: Pick<BruteForcePlan, 'guesses' | 'emails' | 'addresses'>) {
	const emails = new Set(plan.emails).size;
	const networks = new Set(plan.addresses.map(networkOf)).size;
	const pairs = new Set(
		Array.from(
			{ length: plan.guesses },
			(_, i) => `${networkOf(plan.addresses[i % plan.addresses.length]!)} ${plan.emails[i % plan.emails.length]}`
		)
	).size;
	const bound = (rules: VisitorLimits) =>
		Math.min(
			rules.perEmailDaily.limit * emails,
			Math.min(rules.perEmailAndNetwork.limit, rules.perEmailAndNetworkDaily.limit) * pairs,
			rules.perNetwork.limit * networks
		);
	return { codeChecks: bound(limits.verifyCode), sends: bound(limits.sendCode) };
}

function rightCodeCount(tally: BruteForceTally): number {
	return Object.values(tally.rightCodes).reduce((sum, n) => sum + n, 0);
}

/** The figure a brute-force test prints. */
export function describeBruteForce(plan: BruteForcePlan, tally: BruteForceTally, sessions: number): string {
	const { guesses, sends } = tally;
	const sendCount = Object.values(sends).reduce((sum, n) => sum + n, 0);
	return (
		`OTP brute force, ${plan.label}: ${plan.guesses} guesses, ${guesses['code-checked']} reached a code check, ` +
		`${guesses.limited} refused by the limit, ${guesses['signed-in']} signed in, ${guesses.other} other; ` +
		`${sends.sent} of ${sendCount} new codes sent; the right code afterwards: ${tally.rightCodes.limited} of ` +
		`${rightCodeCount(tally)} refused by the limit, ${tally.rightCodes['signed-in']} signed in; ${sessions} sessions, ` +
		`${guesses['server-error'] + sends['server-error']} 5xx`
	);
}

/**
 * What every brute force must come to: nobody signed in, no session made, some guesses reached a
 * code check but no more than the published limits allow, every other guess refused by a limit,
 * the right code sent afterwards refused by the limit too, no more codes sent than allowed, no 5xx.
 */
export function expectStoppedWithinBounds(
	plan: BruteForcePlan,
	tally: BruteForceTally,
	sessions: number,
	bounds: ReturnType<typeof publishedBounds>
): void {
	expect(tally.guesses['signed-in']).toBe(0);
	expect(tally.rightCodes['signed-in']).toBe(0);
	expect(tally.rightCodes.limited).toBe(new Set(plan.emails).size);
	expect(sessions).toBe(0);
	expect(tally.guesses['code-checked']).toBeGreaterThan(0);
	expect(tally.guesses['code-checked']).toBeLessThanOrEqual(bounds.codeChecks);
	expect(tally.guesses.limited).toBe(plan.guesses - tally.guesses['code-checked']);
	expect(tally.sends.sent).toBeLessThanOrEqual(bounds.sends);
	expect(tally.guesses['server-error'] + tally.sends['server-error']).toBe(0);
}
