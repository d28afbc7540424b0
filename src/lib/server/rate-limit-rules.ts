/**
 * What sign-in is held to: the rules, each a name, a limit and a window. A leaf module, so that
 * config.ts can build them without importing the limiters (rate-limit.ts), which need the database.
 */

/** One limit: at most `limit` attempts per subject in each window. */
export interface RateLimitRule {
	/** Shown in logs and used as the key's namespace. */
	name: string;
	limit: number;
	windowSeconds: number;
}

const SIGN_IN_WINDOW_SECONDS = 15 * 60;
const DAY_SECONDS = 24 * 3600;

/** Per-IP defaults; an office behind one NAT address may need more (OTP_SEND_LIMIT_PER_IP, OTP_VERIFY_LIMIT_PER_IP). */
export const DEFAULT_PER_ADDRESS_LIMITS = { send: 30, verify: 60 };

/**
 * What a visitor's step (sending a code, trying one) is held to, narrowest first. The per-email
 * ceiling counts every network together over a day: one network's daily cap stays below it,
 * so a single network cannot reach it, and it bounds the code checks an account can suffer
 * in a day from any number of networks. A browser known for the address counts against a
 * ceiling of its own instead, which strangers cannot spend: a tag copied from the owner's
 * browser (a shared computer) is held there too, so the bound stays a sum of the two.
 */
export interface VisitorLimits {
	perEmailAndNetwork: RateLimitRule;
	perEmailAndNetworkDaily: RateLimitRule;
	perNetwork: RateLimitRule;
	perEmailDaily: RateLimitRule;
	perEmailKnownDaily: RateLimitRule;
}

/**
 * What re-authentication of a signed-in user is held to: the counters of the session it comes
 * from only, so a stolen session spending its own cannot hold the owner's other sessions.
 */
export interface ReauthLimits {
	perSession: RateLimitRule;
	perSessionDaily: RateLimitRule;
}

/**
 * What asking for a code to a new address is held to: the session's own counters, and a daily
 * ceiling per address asked for, so that many accounts together cannot flood one mailbox.
 */
export interface EmailChangeSendLimits extends ReauthLimits {
	perAddressDaily: RateLimitRule;
}

/**
 * What the way out of a refused sign-in is held to: asking for a link, per user (whose mailbox it
 * fills) and per network; and using one, per network, which bounds the lookups of guessed links.
 */
export interface SignOutLinkLimits {
	send: { perUser: RateLimitRule; perUserDaily: RateLimitRule; perNetwork: RateLimitRule };
	use: { perNetwork: RateLimitRule };
}

const rule = (name: string, limit: number, windowSeconds: number): RateLimitRule => ({ name, limit, windowSeconds });

/**
 * Published limits for sign-in (docs/CONFIGURATION.md, "Sign-in codes and limits"). Form actions call Better
 * Auth's API directly, which skips Better Auth's own limiter, so these are enforced by the
 * actions themselves.
 */
export function signInLimits(perAddress = DEFAULT_PER_ADDRESS_LIMITS) {
	return {
		sendCode: {
			perEmailAndNetwork: rule('otp-send-email-network', 5, SIGN_IN_WINDOW_SECONDS),
			perEmailAndNetworkDaily: rule('otp-send-email-network-day', 20, DAY_SECONDS),
			perNetwork: rule('otp-send-ip', perAddress.send, SIGN_IN_WINDOW_SECONDS),
			perEmailDaily: rule('otp-send-email-day', 50, DAY_SECONDS),
			perEmailKnownDaily: rule('otp-send-email-known-day', 50, DAY_SECONDS)
		} satisfies VisitorLimits,
		verifyCode: {
			perEmailAndNetwork: rule('otp-verify-email-network', 10, SIGN_IN_WINDOW_SECONDS),
			perEmailAndNetworkDaily: rule('otp-verify-email-network-day', 60, DAY_SECONDS),
			perNetwork: rule('otp-verify-ip', perAddress.verify, SIGN_IN_WINDOW_SECONDS),
			perEmailDaily: rule('otp-verify-email-day', 150, DAY_SECONDS),
			perEmailKnownDaily: rule('otp-verify-email-known-day', 150, DAY_SECONDS)
		} satisfies VisitorLimits,
		reauthSendCode: {
			perSession: rule('reauth-send-session', 5, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('reauth-send-session-day', 50, DAY_SECONDS)
		} satisfies ReauthLimits,
		reauthVerifyCode: {
			perSession: rule('reauth-verify-session', 10, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('reauth-verify-session-day', 150, DAY_SECONDS)
		} satisfies ReauthLimits,
		emailChangeSendCode: {
			perSession: rule('email-change-send-session', 5, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('email-change-send-session-day', 20, DAY_SECONDS),
			perAddressDaily: rule('email-change-send-address-day', 10, DAY_SECONDS)
		} satisfies EmailChangeSendLimits,
		signOutLink: {
			send: {
				perUser: rule('sign-out-link-send-user', 3, SIGN_IN_WINDOW_SECONDS),
				perUserDaily: rule('sign-out-link-send-user-day', 10, DAY_SECONDS),
				perNetwork: rule('sign-out-link-send-ip', 10, SIGN_IN_WINDOW_SECONDS)
			},
			use: { perNetwork: rule('sign-out-link-use-ip', 30, SIGN_IN_WINDOW_SECONDS) }
		} satisfies SignOutLinkLimits,
		emailChangeVerifyCode: {
			perSession: rule('email-change-verify-session', 10, SIGN_IN_WINDOW_SECONDS),
			perSessionDaily: rule('email-change-verify-session-day', 50, DAY_SECONDS)
		} satisfies ReauthLimits
	};
}

export type SignInLimits = ReturnType<typeof signInLimits>;
