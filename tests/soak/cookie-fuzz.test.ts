import { createHmac, randomBytes } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, signIn } from './support/browser';
import { SCALE_SECRET, startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';

const NAME = '__Secure-latchkey.session_token';
const HEADERS_TO_TRY = 10_000;

const sign = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('base64');
const cookie = (name: string, raw: string) => `${name}=${encodeURIComponent(raw)}`;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number) {
	let state = seed;
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
		return state / 2 ** 31;
	};
}

describe('cookie fuzz against a production build', () => {
	let dir: string;
	let mail: MailSink;
	let app: Instance;
	let valid: string;
	let revoked: string;
	let expired: string;

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'latchkey-fuzz-'));
		mail = await startMailSink(2551);
		app = await startInstance(4351, {
			DATABASE_URL: `file:${dir}/latchkey.db`,
			SMTP_URL: 'smtp://127.0.0.1:2551',
			PURGE_INTERVAL: 'off',
			OTP_SEND_LIMIT_PER_IP: '1000',
			OTP_VERIFY_LIMIT_PER_IP: '1000'
		});
		valid = await signIn(app, mail, 'fuzz-valid@example.com');
		revoked = await signIn(app, mail, 'fuzz-revoked@example.com');
		expired = await signIn(app, mail, 'fuzz-expired@example.com');
		expect((await post(app, '/logout', {}, revoked)).status).toBe(303);
		const db = new Sqlite(`${dir}/latchkey.db`);
		db.prepare('UPDATE session SET expires_at = ? WHERE token = ?').run(
			Date.now() - 1000,
			decodeURIComponent(expired.split('=')[1]!).split('.')[0]
		);
		db.close();
	});

	afterAll(async () => {
		await app?.stop();
		await mail?.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	function sessionCount(): number {
		const db = new Sqlite(`${dir}/latchkey.db`, { readonly: true });
		const { n } = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM session').get()!;
		db.close();
		return n;
	}

	/**
	 * Cookie headers that must all be treated as signed out. (Whitespace around a valid cookie's
	 * name is not among them: cookie parsing trims it, in browsers and in Better Auth alike.)
	 */
	function hostileHeaders(count: number): string[] {
		const next = random(20261127);
		const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
		const value = decodeURIComponent(valid.split('=')[1]!);
		const token = value.slice(0, value.lastIndexOf('.'));
		const printable = (length: number) =>
			Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(next() * 94)))
				.join('')
				.replace(/;/g, ',');
		const generators: Array<() => string> = [
			() => `${NAME}=${printable(1 + Math.floor(next() * 200))}`,
			() => printable(1 + Math.floor(next() * 300)),
			() => `${NAME}=${printable(4000 + Math.floor(next() * 10_000))}`,
			() => Array.from({ length: 2 + Math.floor(next() * 60) }, () => `${NAME}=${printable(60)}`).join('; '),
			() => cookie(NAME, `${token}.${sign(token, SCALE_SECRET).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`),
			() => cookie(NAME, `${token}.${sign(token, randomBytes(24).toString('hex'))}`),
			() => cookie(NAME, `${token.slice(0, -1 - Math.floor(next() * 5))}.${sign(token, SCALE_SECRET)}`),
			() => `${NAME}=${encodeURIComponent(encodeURIComponent(value))}`,
			() => `${NAME}=${value.replace(/\./, '%2E')}%00`,
			() => `${NAME}=%E0%A4%A${printable(10)}`,
			() =>
				cookie(
					pick(['latchkey.session_token', '__Host-latchkey.session_token', '__secure-latchkey.session_token']),
					value
				),
			() => cookie(`__Secure-__Secure-latchkey.session_token`, value),
			() => `${NAME}="${value}`,
			() => pick([revoked, expired]),
			() => `${pick([revoked, expired])}; theme=dark`
		];
		return Array.from({ length: count }, () => pick(generators)());
	}

	it(`${HEADERS_TO_TRY} hostile Cookie headers: no 5xx, no session created, nobody signed in`, async () => {
		const before = sessionCount();
		const targets = [
			{
				name: 'protected page',
				request: (header: string) => get(app, '/account', header)
			},
			{
				name: 'public page',
				request: (header: string) => get(app, '/', header)
			},
			{ name: 'form action', request: (header: string) => post(app, '/account/sessions?/signOutOthers', {}, header) }
		];
		const signedIn = async (target: string, response: Response) => {
			if (target === 'public page') return (await response.text()).includes('You are signed in as');
			if (target === 'protected page') return response.status === 200;
			return response.status === 200;
		};
		const headers = hostileHeaders(HEADERS_TO_TRY);
		const statuses = new Map<number, number>();
		const wronglySignedIn: string[] = [];
		let index = 0;
		const worker = async () => {
			while (index < headers.length) {
				const header = headers[index]!;
				const target = targets[index % targets.length]!;
				index += 1;
				let response: Response;
				try {
					response = await target.request(header);
				} catch {
					statuses.set(0, (statuses.get(0) ?? 0) + 1);
					continue;
				}
				statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
				if (await signedIn(target.name, response)) wronglySignedIn.push(`${target.name}: ${header.slice(0, 80)}`);
			}
		};
		await Promise.all(Array.from({ length: 8 }, worker));

		const control = await get(app, '/account', valid);
		const serverErrors = [...statuses]
			.filter(([status]) => status >= 500 || status === 0)
			.reduce((sum, [, n]) => sum + n, 0);
		console.log(
			`cookie fuzz: ${headers.length} headers tried; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ${serverErrors} 5xx; sessions ${before} → ${sessionCount()}; ${wronglySignedIn.length} signed in`
		);
		expect(serverErrors).toBe(0);
		expect(wronglySignedIn).toEqual([]);
		expect(sessionCount()).toBe(before);
		expect(control.status).toBe(200);
	});
});
