import { createHash, createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { CODE_DIGITS, CODE_LIFETIME_MINUTES, CODE_TRIES } from '../../sign-in-code';
import type { CodeRows } from '../db/port';

export { CODE_DIGITS, CODE_TRIES } from '../../sign-in-code';

/**
 * One-time codes that belong to whoever asked for them. A sign-in code is held by the browser
 * that asked (its pending-sign-in cookie), a re-authentication code by the signed-in session:
 * another browser's request never replaces it, and another browser's guess never finds it, so
 * no stranger can spend its tries or learn that it exists.
 *
 * Each holder has at most one live code. The stored value holds no code, only an HMAC of the
 * holder, the address and the code under the app secret, so a copy of the table is no use for
 * signing in, and a code sent for one address never signs in another.
 */

export const CODE_LIFETIME_SECONDS = CODE_LIFETIME_MINUTES * 60;

export const CODE_PATTERN = new RegExp(`^\\d{${CODE_DIGITS}}$`);

export type CodePurpose = 'sign-in' | 'reauth' | 'email-change';

/** Whose code it is: a purpose, and the browser's pending-sign-in key or the session's id. */
export interface CodeHolder {
	purpose: CodePurpose;
	key: string;
}

export interface CodeBook {
	rows: CodeRows;
	secret: string;
	/** Milliseconds since the epoch; tests move it instead of waiting. */
	now: () => number;
}

/** What a try came to. `wrong` also stands for "this holder has no code": the two must look alike. */
export type CodeVerdict = 'accepted' | 'wrong' | 'expired' | 'used-up';

/** `<wrong tries>.<expires at, epoch ms>.<digest>`: compared and replaced whole. */
interface CodeState {
	tries: number;
	expiresAt: number;
	digest: string;
}

const STATE = /^(\d+)\.(\d+)\.([A-Za-z0-9_-]{43})$/;
/** Compare-and-set rounds before a wrong try gives up on recording itself (it is refused all the same). */
const RECORD_ROUNDS = 5;

function holderId({ purpose, key }: CodeHolder): string {
	return `latchkey-${purpose}:${key}`;
}

function digestOf(secret: string, holder: CodeHolder, email: string, code: string): string {
	return createHmac('sha256', secret)
		.update(`latchkey code\0${holderId(holder)}\0${email}\0${code}`)
		.digest('base64url');
}

function encode(state: CodeState): string {
	return `${state.tries}.${state.expiresAt}.${state.digest}`;
}

function decode(value: string): CodeState | null {
	const match = STATE.exec(value);
	return match ? { tries: Number(match[1]), expiresAt: Number(match[2]), digest: match[3]! } : null;
}

/** A uniformly drawn code of CODE_DIGITS digits. */
export function newCode(): string {
	let code = '';
	for (let i = 0; i < CODE_DIGITS; i++) code += String(randomInt(10));
	return code;
}

/** Makes the holder's new code for `email`, replacing any earlier one of theirs; returns it, to be mailed. */
export async function issueCode(book: CodeBook, holder: CodeHolder, email: string): Promise<string> {
	const code = newCode();
	const now = book.now();
	const expiresAt = now + CODE_LIFETIME_SECONDS * 1000;
	const value = encode({ tries: 0, expiresAt, digest: digestOf(book.secret, holder, email, code) });
	await book.rows.replace(
		{ id: randomUUID(), holder: holderId(holder), value, expiresAt: new Date(expiresAt) },
		new Date(now)
	);
	return code;
}

/**
 * Tries `code` for `email` against the holder's code. A right code is spent by exactly one
 * request; a wrong one uses up one of its tries. The caller has counted the try against its
 * limits already, whatever it comes to.
 */
export async function tryCode(book: CodeBook, holder: CodeHolder, email: string, code: string): Promise<CodeVerdict> {
	const offered = Buffer.from(digestOf(book.secret, holder, email, code));
	for (let round = 0; round < RECORD_ROUNDS; round++) {
		const stored = await book.rows.find(holderId(holder));
		const state = stored && decode(stored.value);
		if (!stored || !state) return 'wrong';
		if (state.tries >= CODE_TRIES) return 'used-up';
		if (state.expiresAt <= book.now()) return 'expired';
		if (timingSafeEqual(offered, Buffer.from(state.digest))) {
			// Another request that spent or tried it first changed the value: look again.
			if (await book.rows.spend(stored.id, stored.value)) return 'accepted';
			continue;
		}
		const tried = encode({ ...state, tries: state.tries + 1 });
		if (await book.rows.update(stored.id, stored.value, tried, new Date(book.now()))) return 'wrong';
	}
	return 'wrong';
}

/** A browser's pending-sign-in key: random, kept in an HttpOnly cookie until the code is used. */
export function newPendingKey(): string {
	return randomBytes(32).toString('base64url');
}

export const PENDING_KEY = /^[A-Za-z0-9_-]{43}$/;

/** The holder of a browser's sign-in code: a hash of its cookie, so the table never holds the cookie. */
export function signInHolder(pendingKey: string): CodeHolder {
	return { purpose: 'sign-in', key: createHash('sha256').update(pendingKey).digest('base64url') };
}

export function reauthHolder(sessionId: string): CodeHolder {
	return { purpose: 'reauth', key: sessionId };
}

/** The holder of a code confirming a new address: the signed-in session that asked for it. */
export function emailChangeHolder(sessionId: string): CodeHolder {
	return { purpose: 'email-change', key: sessionId };
}
