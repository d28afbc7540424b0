import nodemailer from 'nodemailer';
import { getConfig, type MailConfig } from '../config';
import type { Mailer, MailMessage } from './message';
import { DevOutbox } from './outbox';

export type { Mailer, MailMessage } from './message';

export function createMailer(config: MailConfig, outbox: DevOutbox): Mailer {
	if (config.smtpUrl === null) return outbox;
	const transport = nodemailer.createTransport(config.smtpUrl);
	return {
		async send({ to, subject, text }) {
			await transport.sendMail({ from: config.from, to, subject, text });
		}
	};
}

/** Development outbox, shared by the mailer and /dev/mailbox. */
export const devOutbox = new DevOutbox();

let current: Mailer | undefined;

export function getMailer(): Mailer {
	return (current ??= createMailer(getConfig().mail, devOutbox));
}

export function signInCodeMessage(to: string, code: string, expiresInMinutes: number): MailMessage {
	return {
		to,
		code,
		subject: 'Your Latchkey sign-in code',
		text: [
			`Your sign-in code is ${code}.`,
			'',
			`It expires in ${expiresInMinutes} minutes and works once. If you did not try to sign in, ignore this message: nobody can sign in without the code.`
		].join('\n')
	};
}
