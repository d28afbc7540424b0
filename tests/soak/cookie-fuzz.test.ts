import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, signIn } from './support/browser';
import { SCALE_SECRET, startInstance, type Instance } from './support/instance';
import { startMailSink, type MailSink } from './support/mail';
import { cookieValueOf, distinctCount, hostileCookieHeaders, MIN_DISTINCT_SHARE } from '../support/cookie-fuzz';

const NAME = '__Host-latchkey.session_token';
const HEADERS_TO_TRY = 10_000;

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
			cookieValueOf(expired).split('.')[0]
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

	it(`${HEADERS_TO_TRY} hostile Cookie headers, nearly all distinct: no 5xx, no session created, nobody signed in`, async () => {
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
		// Over HTTP the random text holds what the HTTP layer lets through: HTAB and 0x80–0xFF
		// besides printable ASCII (other control characters are refused by the client and by llhttp).
		const headers = hostileCookieHeaders(
			{ name: NAME, valid, revoked, expired, secret: SCALE_SECRET },
			HEADERS_TO_TRY,
			{ characters: 'header' }
		);
		const distinct = distinctCount(headers);
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
			`cookie fuzz: ${headers.length} headers tried, ${distinct} distinct; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ${serverErrors} 5xx; sessions ${before} → ${sessionCount()}; ${wronglySignedIn.length} signed in`
		);
		expect(distinct, 'distinct headers').toBeGreaterThanOrEqual(MIN_DISTINCT_SHARE * HEADERS_TO_TRY);
		expect(serverErrors).toBe(0);
		expect(wronglySignedIn).toEqual([]);
		expect(sessionCount()).toBe(before);
		expect(control.status).toBe(200);
	});
});
