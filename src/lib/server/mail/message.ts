/** What every mailer sends; a leaf module, so that the mailers and the outbox can share it. */
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
