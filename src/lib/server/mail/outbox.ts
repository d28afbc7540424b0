import type { Mailer, MailMessage } from './message';

export interface OutboxEntry extends MailMessage {
	id: number;
	sentAt: Date;
}

const KEPT_MESSAGES = 50;

/** Where mail goes in development when no SMTP server is configured: memory and the console. */
export class DevOutbox implements Mailer {
	#entries: OutboxEntry[] = [];
	#nextId = 1;

	async send(message: MailMessage): Promise<void> {
		this.#entries.unshift({ ...message, id: this.#nextId++, sentAt: new Date() });
		this.#entries.length = Math.min(this.#entries.length, KEPT_MESSAGES);
		console.info(
			`latchkey dev mail to ${message.to}: ${message.subject}${message.code ? ` — code ${message.code}` : ''}`
		);
	}

	/** Newest first. */
	list(): readonly OutboxEntry[] {
		return this.#entries;
	}
}
