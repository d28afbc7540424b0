import { DEFAULT_SESSION, type AppConfig } from '../../../src/lib/server/config';
import { migrateDatabase, openDatabase, type Database } from '../../../src/lib/server/db';
import type { DatabaseTarget } from '../../../src/lib/server/db/target';
import { createAuth, type Auth } from '../../../src/lib/server/auth/instance';
import { CLIENT_ADDRESS_HEADER } from '../../../src/lib/server/auth/client-address';
import { DevOutbox } from '../../../src/lib/server/mail/outbox';

export const TEST_ORIGIN = 'http://localhost:5173';
export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

export function testConfig(target: DatabaseTarget): AppConfig {
	return {
		production: false,
		origin: TEST_ORIGIN,
		database: target,
		autoMigrate: true,
		secret: TEST_SECRET,
		mail: { smtpUrl: null, from: 'Latchkey <test@localhost>' },
		session: DEFAULT_SESSION
	};
}

export interface TestApp {
	auth: Auth;
	database: Database;
	outbox: DevOutbox;
}

/** Latchkey's real auth stack on a migrated database, without the HTTP server around it. */
export async function startTestApp(target: DatabaseTarget): Promise<TestApp> {
	const database = openDatabase(target);
	await migrateDatabase(database);
	const outbox = new DevOutbox();
	const auth = createAuth({
		config: testConfig(target),
		database,
		mailer: outbox,
		currentRequestEvent: () => undefined
	});
	return { auth, database, outbox };
}

export interface Visitor {
	address: string;
	userAgent: string;
}

/** A request to Better Auth's HTTP API as a browser at `visitor` would send it. */
export function authRequest(path: string, visitor: Visitor, init: { body?: unknown; cookie?: string } = {}): Request {
	const headers = new Headers({
		origin: TEST_ORIGIN,
		'user-agent': visitor.userAgent,
		[CLIENT_ADDRESS_HEADER]: visitor.address
	});
	if (init.cookie) headers.set('cookie', init.cookie);
	if (init.body !== undefined) headers.set('content-type', 'application/json');
	return new Request(`${TEST_ORIGIN}/api/auth${path}`, {
		method: 'POST',
		headers,
		body: init.body === undefined ? undefined : JSON.stringify(init.body)
	});
}

/** `name=value` of the session cookie from a response, as the browser would send it back. */
export function sessionCookieFrom(response: Response): string {
	const cookie = response.headers
		.getSetCookie()
		.map((line) => line.split(';')[0]!)
		.find((pair) => pair.startsWith('better-auth.session_token='));
	if (!cookie) throw new Error(`no session cookie in response (status ${response.status})`);
	return cookie;
}
