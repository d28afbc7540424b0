import nodemailer from 'nodemailer';
import { getConfig, type MailConfig } from '../config';
import { DevOutbox } from './outbox';

export interface MailMessage {
	to: string;
	subject: string;
	text: string;
	/** The one-time code the message carries, shown large in the development outbox. */
	code?: string;
}

export interface Mailer {
	send(message: MailMessage): Promise<void>;
}

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
