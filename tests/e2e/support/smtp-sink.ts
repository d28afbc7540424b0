/**
 * A real SMTP server for the browser tests: Latchkey delivers sign-in codes to it over
 * SMTP, and the tests read what arrived through a small HTTP API.
 *   SMTP  127.0.0.1:$SMTP_SINK_PORT        (default 2525)
 *   HTTP  127.0.0.1:$SMTP_SINK_HTTP_PORT   GET /messages?to=<address>  GET /health
 */
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';

interface ReceivedMessage {
	to: string[];
	raw: string;
	receivedAt: string;
}

const smtpPort = Number(process.env.SMTP_SINK_PORT ?? 2525);
const httpPort = Number(process.env.SMTP_SINK_HTTP_PORT ?? 2526);
const received: ReceivedMessage[] = [];

const smtp = new SMTPServer({
	authOptional: true,
	disabledCommands: ['STARTTLS'],
	onData(stream, session, callback) {
		const chunks: Buffer[] = [];
		stream.on('data', (chunk: Buffer) => chunks.push(chunk));
		stream.on('end', () => {
			received.push({
				to: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
				raw: Buffer.concat(chunks).toString('utf8'),
				receivedAt: new Date().toISOString()
			});
			callback();
		});
	}
});
smtp.listen(smtpPort, '127.0.0.1');

const http = createServer((request, response) => {
	const url = new URL(request.url ?? '/', `http://127.0.0.1:${httpPort}`);
	if (url.pathname === '/health') {
		response.end('ok');
		return;
	}
	if (url.pathname === '/messages') {
		const to = url.searchParams.get('to')?.toLowerCase();
		const messages = received.filter((message) => !to || message.to.includes(to));
		response.setHeader('content-type', 'application/json');
		response.end(JSON.stringify(messages));
		return;
	}
	response.statusCode = 404;
	response.end('not found');
});
http.listen(httpPort, '127.0.0.1', () => console.log(`smtp sink: SMTP ${smtpPort}, HTTP ${httpPort}`));

const stop = () => {
	http.close();
	smtp.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
