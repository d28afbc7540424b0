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

/** The code works only in the browser (or, to confirm it is you, the session) that asked for it: the mail says so. */
export function signInCodeMessage(
	to: string,
	code: string,
	expiresInMinutes: number,
	purpose: 'sign-in' | 'reauth' = 'sign-in'
): MailMessage {
	const reauth = purpose === 'reauth';
	return {
		to,
		code,
		subject: reauth ? 'Your Latchkey code to confirm it is you' : 'Your Latchkey sign-in code',
		text: [
			`Your ${reauth ? 'confirmation' : 'sign-in'} code is ${code}.`,
			'',
			`Enter it in the browser where you asked for it. It expires in ${expiresInMinutes} minutes and works once. ` +
				'If you did not try to sign in, ignore this message: nobody can sign in without the code.'
		].join('\n')
	};
}
