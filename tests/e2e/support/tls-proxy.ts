import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this run only. */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
	const dir = mkdtempSync(join(tmpdir(), 'latchkey-tls-'));
	try {
		const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
		execFileSync(
			'openssl',
			['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
				'-addext',
				'subjectAltName=IP:127.0.0.1,DNS:localhost',
				'-keyout',
				key,
				'-out',
				cert
			]),
			{ stdio: 'ignore' }
		);
		return { key: readFileSync(key), cert: readFileSync(cert) };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * Terminates TLS on 127.0.0.1:`port` and forwards every request as it came to plain http on
 * 127.0.0.1:`upstreamPort`, answers included: a deployment behind a TLS-terminating proxy.
 */
export async function startTlsProxy(port: number, upstreamPort: number): Promise<Server> {
	const server = createServer(selfSignedCertificate(), (incoming, outgoing) => {
		const upstream = httpRequest(
			{ host: '127.0.0.1', port: upstreamPort, method: incoming.method, path: incoming.url, headers: incoming.headers },
			(answer) => {
				outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
				answer.pipe(outgoing);
			}
		);
		upstream.on('error', () => outgoing.writeHead(502).end());
		incoming.pipe(upstream);
	});
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return server;
}
