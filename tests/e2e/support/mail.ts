import { expect } from '@playwright/test';
import { SMTP_SINK } from './servers';

/** How many digits every emailed code has, as the login page and the mail promise. */
export const CODE_DIGITS = 8;
const CODE_IN_MAIL = new RegExp(`\\b(\\d{${CODE_DIGITS}})\\b`);

interface ReceivedMessage {
	to: string[];
	raw: string;
}

async function messagesTo(email: string): Promise<ReceivedMessage[]> {
	const response = await fetch(`http://127.0.0.1:${SMTP_SINK.httpPort}/messages?to=${encodeURIComponent(email)}`);
	return (await response.json()) as ReceivedMessage[];
}

/** The code in the newest message the SMTP sink received for `email`, once it arrives. */
export async function latestCodeFor(email: string, previousCount = 0): Promise<string> {
	let messages: ReceivedMessage[] = [];
	await expect
		.poll(async () => (messages = await messagesTo(email)).length, { message: `mail for ${email}`, timeout: 10_000 })
		.toBeGreaterThan(previousCount);
	const body = messages
		.at(-1)!
		.raw.split(/\r?\n\r?\n/)
		.slice(1)
		.join('\n');
	const code = CODE_IN_MAIL.exec(body)?.[1];
	if (!code) throw new Error(`no ${CODE_DIGITS}-digit code in the message to ${email}`);
	return code;
}

/** A message body as sent: quoted-printable (nodemailer's choice for long lines) decoded. */
function bodyOf(raw: string): string {
	const [headers = '', ...rest] = raw.split(/\r?\n\r?\n/);
	const body = rest.join('\n');
	if (!/content-transfer-encoding:\s*quoted-printable/i.test(headers)) return body;
	return Buffer.from(
		body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
		'latin1'
	).toString('utf8');
}

/** The first link to `path` in the newest message the SMTP sink received for `email`, once it arrives. */
export async function latestLinkFor(email: string, path: string, previousCount = 0): Promise<URL> {
	let messages: ReceivedMessage[] = [];
	await expect
		.poll(async () => (messages = await messagesTo(email)).length, { message: `mail for ${email}`, timeout: 10_000 })
		.toBeGreaterThan(previousCount);
	const link = bodyOf(messages.at(-1)!.raw)
		.match(/https?:\/\/\S+/g)
		?.map((candidate) => new URL(candidate))
		.find((url) => url.pathname === path);
	if (!link) throw new Error(`no link to ${path} in the message to ${email}`);
	return link;
}

export async function countMessagesTo(email: string): Promise<number> {
	return (await messagesTo(email)).length;
}

let emails = 0;

/** A fresh address per test, so tests never read each other's codes. */
export function uniqueEmail(label: string): string {
	emails += 1;
	return `${label}-${Date.now().toString(36)}-${emails}@example.com`;
}
