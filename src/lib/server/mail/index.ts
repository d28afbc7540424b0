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

/** The code that confirms a new address: mailed to that address, usable only in the session that asked. */
export function emailChangeCodeMessage(to: string, code: string, expiresInMinutes: number): MailMessage {
	return {
		to,
		code,
		subject: 'Your Latchkey code to confirm your new email address',
		text: [
			`Your code to make this your Latchkey sign-in address is ${code}.`,
			'',
			`Enter it on the account page where you asked for it. It expires in ${expiresInMinutes} minutes and works once. ` +
				'If you did not ask for this, ignore this message: the address is not changed without the code.'
		].join('\n')
	};
}

/**
 * Sent instead of a code when the address asked for already has an account: its owner learns
 * of the attempt, the asker sees the same page as for a free address and holds no usable code.
 */
export function emailTakenNotice(to: string): MailMessage {
	return {
		to,
		subject: 'Someone tried to move a Latchkey account to your address',
		text: [
			'Someone signed in to a Latchkey account asked to change its address to this one.',
			'',
			'This address already has an account, so nothing was changed and no code was sent. ' +
				'You do not need to do anything. If it was you, sign in with this address instead.'
		].join('\n')
	};
}

/** Tells the address a change moved away from, so a stolen session cannot move the account silently. */
export function emailChangedNotice(to: string, maskedNewAddress: string): MailMessage {
	return {
		to,
		subject: 'Your Latchkey email address was changed',
		text: [
			`The email address of your Latchkey account was changed to ${maskedNewAddress}, and every other device was signed out.`,
			'',
			'From now on, sign in with the new address; signing in with this one would start a new, empty account. ' +
				'If this wasn’t you, someone had access to your account: contact the site’s operator at once, ' +
				'and sign in with the new address only if it is yours.'
		].join('\n')
	};
}

/**
 * The way out of a sign-in refused by the session limit: a link that, once confirmed, signs out
 * every device of the account. Whoever asked had just proved they own the address or the linked
 * provider account, so a request the owner did not make means that proof is in other hands.
 */
export function signOutLinkMessage(to: string, url: string, expiresInMinutes: number): MailMessage {
	return {
		to,
		subject: 'Sign out of Latchkey on every device',
		text: [
			'A sign-in to your Latchkey account was refused: the account is already signed in on as many devices as it may be at once.',
			'',
			`To sign out every device, open this link and confirm: ${url}`,
			'',
			`It works once and expires in ${expiresInMinutes} minutes. Afterwards, sign in again where you want to.`,
			'If you did not try to sign in, do not open the link: someone else could sign in to your account. ' +
				'Secure this mailbox and the accounts you sign in with, then sign out the devices you do not know from the devices page.'
		].join('\n')
	};
}
