import { SMTPServer } from 'smtp-server';
import { CODE_DIGITS } from '../../../src/lib/sign-in-code';

const CODE_IN_MAIL = new RegExp(`\\b(\\d{${CODE_DIGITS}})\\b`);

/** A real SMTP server in the test process; instances send their codes to it. */
export interface MailSink {
	port: number;
	latestCode(to: string): string;
	stop(): Promise<void>;
}

export async function startMailSink(port: number): Promise<MailSink> {
	const codes = new Map<string, string>();
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS'],
		onData(stream, session, callback) {
			let raw = '';
			stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
			stream.on('end', () => {
				const code = CODE_IN_MAIL.exec(
					raw
						.split(/\r?\n\r?\n/)
						.slice(1)
						.join('\n')
				)?.[1];
				for (const recipient of session.envelope.rcptTo) if (code) codes.set(recipient.address.toLowerCase(), code);
				callback();
			});
		}
	});
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return {
		port,
		latestCode(to) {
			const code = codes.get(to.toLowerCase());
			if (!code) throw new Error(`no code was mailed to ${to}`);
			return code;
		},
		stop: () => new Promise<void>((resolve) => server.close(() => resolve()))
	};
}
