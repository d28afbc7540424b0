import type { RequestEvent } from '@sveltejs/kit';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { emailOTP } from 'better-auth/plugins/email-otp';
import { sveltekitCookies } from 'better-auth/svelte-kit';
import type { AppConfig } from '../config';
import type { Database } from '../db';
import { signInCodeMessage, type Mailer } from '../mail';
import { CLIENT_ADDRESS_HEADER } from './client-address';

export const OTP_LENGTH = 6;
export const OTP_EXPIRES_IN_SECONDS = 5 * 60;
export const OTP_ALLOWED_ATTEMPTS = 3;

export interface AuthDependencies {
	config: AppConfig;
	database: Database;
	mailer: Mailer;
	/** The SvelteKit request being served, so cookies Better Auth sets reach the response; none in tests. */
	currentRequestEvent: () => RequestEvent | undefined;
}

/** Better Auth owns sign-in, session creation, cookie issuance and sign-out. */
export function createAuth({ config, database, mailer, currentRequestEvent }: AuthDependencies) {
	return betterAuth({
		appName: 'Latchkey',
		baseURL: config.origin,
		trustedOrigins: [config.origin],
		secret: config.secret,
		database: drizzleAdapter(database.db, {
			provider: database.dialect === 'sqlite' ? 'sqlite' : 'pg',
			schema: database.schema
		}),
		session: {
			expiresIn: config.session.expiresIn,
			updateAge: config.session.updateAge
		},
		rateLimit: { enabled: true },
		advanced: {
			// hooks.server.ts stamps SvelteKit's view of the client address (socket, or the
			// operator's ADDRESS_HEADER) into this header; a client-sent X-Forwarded-For is never trusted.
			ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] }
		},
		telemetry: { enabled: false },
		plugins: [
			emailOTP({
				otpLength: OTP_LENGTH,
				expiresIn: OTP_EXPIRES_IN_SECONDS,
				allowedAttempts: OTP_ALLOWED_ATTEMPTS,
				storeOTP: 'hashed',
				async sendVerificationOTP({ email, otp }) {
					await mailer.send(signInCodeMessage(email, otp, OTP_EXPIRES_IN_SECONDS / 60));
				}
			}),
			// Must stay last: it copies every Set-Cookie the other endpoints and plugins produced.
			sveltekitCookies(currentRequestEvent as () => RequestEvent)
		]
	});
}

export type Auth = ReturnType<typeof createAuth>;
export type SessionData = Auth['$Infer']['Session'];
export type User = SessionData['user'];
export type Session = SessionData['session'];
