import { connect } from 'node:net';
import type { Page } from '@playwright/test';
import { withAppDatabase } from './support/database';
import { expect, test } from './support/fixtures';
import { collectDialogs, IMG, SCRIPT, visit } from './support/hostile';
import { uniqueEmail } from './support/mail';
import { SMTP_APP } from './support/servers';
import { signInAs } from './support/sign-in';

// User agents, which a client controls, shown back to the user: stored bounded, rendered as
// text (checked in Chromium's DOM), never breaking a page. Typed addresses: hostile-email.spec.ts.

const CHROME_LINUX =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
/** MAX_USER_AGENT_LENGTH in src/lib/server/user-agent.ts. */
const STORED_LENGTH = 512;

/**
 * User agents Chromium will send. HTTP carries no NUL, CR or LF in a header, and Node refuses
 * other controls (see the last test); a tab is the one it lets through. The rest of the
 * control characters are unit-tested in src/lib/server/user-agent.spec.ts.
 */
const HOSTILE_AGENTS = [
	{ userAgent: SCRIPT, device: 'Unknown device' },
	{ userAgent: IMG, device: 'Unknown device' },
	{ userAgent: `${CHROME_LINUX} ${SCRIPT}\t${IMG}`, device: 'Chrome 131 on Linux' },
	{ userAgent: `${FIREFOX_LINUX} ${'A'.repeat(10 * 1024)}`, device: 'Firefox 133 on Linux' }
];

/** As the server stores it: 512 characters at most, a tab made a space. */
function storedForm(userAgent: string): string {
	return userAgent.replaceAll('\t', ' ').slice(0, STORED_LENGTH);
}

function storedUserAgents(email: string) {
	return withAppDatabase(SMTP_APP, (db) => {
		const of = (table: string) =>
			db
				.prepare<[string], { userAgent: string }>(
					`SELECT t.user_agent AS userAgent FROM ${table} t JOIN "user" u ON u.id = t.user_id WHERE u.email = ?`
				)
				.all(email)
				.map((row) => row.userAgent)
				.sort();
		return { sessions: of('session'), securityLog: of('security_event') };
	});
}

test('user agents with markup, a tab and 10 KB are stored bounded and shown as text on /account, the devices page and the security log', async ({
	browser,
	javaScriptEnabled
}) => {
	const email = uniqueEmail('hostile-agent');
	const dialogs: string[] = [];
	const pages: Page[] = [];
	for (const { userAgent, device } of HOSTILE_AGENTS) {
		const context = await browser.newContext({ baseURL: SMTP_APP.origin, userAgent, javaScriptEnabled });
		const page = await context.newPage();
		collectDialogs(page, dialogs);
		pages.push(page);
		await signInAs(page, email);
		await visit(page, '/account', 'Your account');
		const shown = await page.locator('dt:text-is("User agent") + dd code').evaluate((element) => element.textContent);
		expect(shown).toBe(storedForm(userAgent));
		await expect(page.locator('dt:text-is("Device") + dd')).toHaveText(device);
	}

	const stored = storedUserAgents(email);
	const expected = HOSTILE_AGENTS.map(({ userAgent }) => storedForm(userAgent)).sort();
	expect(stored.sessions).toEqual(expected);
	expect(stored.securityLog).toEqual(expected);

	const viewer = pages.at(-1)!;
	const devices = HOSTILE_AGENTS.map(({ device }) => device).sort();
	await visit(viewer, '/account/sessions', 'Devices');
	const cards = viewer.getByTestId('device');
	await expect(cards).toHaveCount(HOSTILE_AGENTS.length);
	expect((await cards.locator('h2').allTextContents()).sort()).toEqual(devices);
	await expect(cards.getByRole('button', { name: /^(Revoke|Sign out this device)/ })).toHaveCount(devices.length);

	await visit(viewer, '/account/security', 'Security log');
	const signIns = viewer.locator('[data-testid="security-event"][data-type="SIGN_IN"]');
	await expect(signIns).toHaveCount(HOSTILE_AGENTS.length);
	await expect(signIns.locator('td')).toHaveCount(4 * HOSTILE_AGENTS.length);
	expect((await signIns.locator('td:last-child').allTextContents()).sort()).toEqual(devices);

	await Promise.all(pages.map((page) => page.context().close()));
	const lengths = stored.sessions.map((userAgent) => userAgent.length);
	console.log(
		`hostile user agents: ${HOSTILE_AGENTS.length} signed in (sent ${HOSTILE_AGENTS.map(({ userAgent }) => userAgent.length).join('/')} characters); ` +
			`stored ${lengths.join('/')} (max ${Math.max(...lengths)}) in session and security_event; ` +
			`${HOSTILE_AGENTS.length + 2} pages checked, 0 injected elements, ${dialogs.length} dialogs`
	);
	expect(Math.max(...lengths)).toBe(STORED_LENGTH);
	expect(dialogs).toEqual([]);
});

/** One raw HTTP/1.1 request: browsers and fetch refuse to send such headers at all. */
function rawRequest(port: number, head: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1', () => socket.end(head, 'latin1'));
		let answer = '';
		socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
		socket.on('end', () => resolve(answer));
		socket.on('error', reject);
	});
}

test('a user agent with control characters never reaches the app: the HTTP parser answers 400', async () => {
	const controls = ['\u0000', '\u0001', '\u001b', '\u007f', '\r'];
	const statusLines: string[] = [];
	for (const control of controls) {
		const answer = await rawRequest(
			SMTP_APP.port,
			`GET /login HTTP/1.1\r\nHost: localhost:${SMTP_APP.port}\r\nUser-Agent: Mozilla/5.0 ${control}x\r\nConnection: close\r\n\r\n`
		);
		statusLines.push(answer.split('\r\n')[0]!);
	}
	console.log(`control characters in User-Agent: ${controls.length} tried, answered ${statusLines.join(' | ')}`);
	expect(statusLines).toEqual(controls.map(() => 'HTTP/1.1 400 Bad Request'));
});
