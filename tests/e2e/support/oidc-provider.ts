/**
 * A real OpenID Connect provider for the browser tests (oauth2-mock-server: discovery, JWKS,
 * signed id_tokens, PKCE, nonce). Its authorization endpoint approves at once, as a provider
 * would after the user consents. The tests choose who signs in, or make the next attempt fail,
 * through a small control API:
 *   POST http://127.0.0.1:$OIDC_CONTROL_PORT/identity  {"sub","email","email_verified","name"}
 *   POST http://127.0.0.1:$OIDC_CONTROL_PORT/deny       next authorization answers error=access_denied
 */
import { createServer } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';

interface Identity {
	sub: string;
	email: string;
	email_verified: boolean;
	name: string;
}

const port = Number(process.env.OIDC_PORT ?? 4192);
const controlPort = Number(process.env.OIDC_CONTROL_PORT ?? 4193);

let identity: Identity = { sub: 'default', email: 'default@example.com', email_verified: true, name: 'Default' };
let denyNext = false;

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

server.service.on('beforeAuthorizeRedirect', (redirect: { url: URL }) => {
	if (!denyNext) return;
	denyNext = false;
	redirect.url.searchParams.delete('code');
	redirect.url.searchParams.set('error', 'access_denied');
	redirect.url.searchParams.set('error_description', 'The user said no');
});
server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
	Object.assign(token.payload, identity);
});
server.service.on('beforeUserinfo', (response: { body: Record<string, unknown> }) => {
	response.body = { ...identity };
});

// Loopback only. The issuer (discovery document, id_token iss) is the URL Latchkey is given.
await server.start(port, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${port}`;

const control = createServer((request, response) => {
	let body = '';
	request.on('data', (chunk: Buffer) => (body += chunk.toString()));
	request.on('end', () => {
		if (request.url === '/identity' && request.method === 'POST') identity = JSON.parse(body) as Identity;
		else if (request.url === '/deny' && request.method === 'POST') denyNext = true;
		else if (request.url !== '/health') response.statusCode = 404;
		response.end('ok');
	});
});
control.listen(controlPort, '127.0.0.1', () =>
	console.log(`oidc provider: ${server.issuer.url}, control ${controlPort}`)
);

const stop = async () => {
	control.close();
	await server.stop();
	process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
