/**
 * Session policies: how long a session lives without use (idle), how often use extends it
 * (refresh), and when it ends however active it is (absolute). Every preset has an absolute
 * lifetime (ASVS 5.0 V7.3.2); only an operator's SESSION_ABSOLUTE_LIFETIME=off removes it.
 * A session row records the policy it was created with, so changing the app's preset later
 * neither shortens nor extends sessions that already exist.
 */
export type PresetName = 'standard' | 'high-security' | 'remember-me' | 'mobile';
export type PolicyName = PresetName | 'custom';

export interface SessionPolicy {
	name: PolicyName;
	/** Seconds without a refresh after which the session expires. */
	idleSeconds: number;
	/** Seconds after the last refresh at which a request extends the session again. */
	refreshSeconds: number;
	/** Seconds after sign-in at which the session ends whatever its activity; null: never (`off`). */
	absoluteSeconds: number | null;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const PRESETS: Record<PresetName, SessionPolicy> = {
	standard: { name: 'standard', idleSeconds: 7 * DAY, refreshSeconds: DAY, absoluteSeconds: 30 * DAY },
	'high-security': {
		name: 'high-security',
		idleSeconds: HOUR,
		refreshSeconds: 15 * MINUTE,
		absoluteSeconds: 12 * HOUR
	},
	'remember-me': { name: 'remember-me', idleSeconds: 30 * DAY, refreshSeconds: DAY, absoluteSeconds: 90 * DAY },
	mobile: { name: 'mobile', idleSeconds: 90 * DAY, refreshSeconds: 7 * DAY, absoluteSeconds: 365 * DAY }
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export interface SessionSettings {
	/** What a sign-in gets without remember-me. */
	appPolicy: SessionPolicy;
	/** Whether the sign-in form offers the remember-me checkbox. */
	rememberMeOffered: boolean;
}

const MAX_DURATION_SECONDS = 400 * DAY;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: MINUTE, h: HOUR, d: DAY };

/** `3600`, `45s`, `15m`, `1h`, `30d` → seconds. */
export function parseDuration(name: string, raw: string): number {
	const match = /^(\d+)\s*([smhd]?)$/i.exec(raw.trim());
	const seconds = match ? Number(match[1]) * UNIT_SECONDS[(match[2] || 's').toLowerCase()]! : NaN;
	if (!Number.isSafeInteger(seconds) || seconds <= 0) {
		throw new Error(
			`${name}="${raw}" is not a duration; use seconds (3600) or a number with s, m, h or d (15m, 1h, 30d)`
		);
	}
	// Browsers cap a cookie's Max-Age at 400 days; nothing here needs longer.
	if (seconds > MAX_DURATION_SECONDS) throw new Error(`${name}="${raw}" is longer than 400 days`);
	return seconds;
}

export function parsePresetName(raw: string | undefined): PresetName {
	const name = (raw?.trim() || 'standard').toLowerCase();
	if ((PRESET_NAMES as string[]).includes(name)) return name as PresetName;
	throw new Error(`SESSION_PRESET="${raw}" is not a preset; choose one of ${PRESET_NAMES.join(', ')}`);
}

export interface SessionEnv {
	SESSION_PRESET?: string;
	SESSION_EXPIRES_IN?: string;
	SESSION_UPDATE_AGE?: string;
	SESSION_ABSOLUTE_LIFETIME?: string;
}

/** The app's policy: the preset, with any durations the operator set in its place. */
export function appPolicyFrom(env: SessionEnv, presetName = parsePresetName(env.SESSION_PRESET)): SessionPolicy {
	const preset = PRESETS[presetName];
	const overrides = [env.SESSION_EXPIRES_IN, env.SESSION_UPDATE_AGE, env.SESSION_ABSOLUTE_LIFETIME];
	const policy: SessionPolicy = {
		name: overrides.some((raw) => raw?.trim()) ? 'custom' : preset.name,
		idleSeconds: durationOr('SESSION_EXPIRES_IN', env.SESSION_EXPIRES_IN, preset.idleSeconds),
		refreshSeconds: durationOr('SESSION_UPDATE_AGE', env.SESSION_UPDATE_AGE, preset.refreshSeconds),
		absoluteSeconds: durationOrOff('SESSION_ABSOLUTE_LIFETIME', env.SESSION_ABSOLUTE_LIFETIME, preset.absoluteSeconds)
	};
	if (policy.refreshSeconds >= policy.idleSeconds) {
		throw new Error(
			`SESSION_UPDATE_AGE (${policy.refreshSeconds}s) must be shorter than SESSION_EXPIRES_IN (${policy.idleSeconds}s), or sessions expire before they are refreshed`
		);
	}
	return policy;
}

/** The duration in `raw`, or the fallback when unset. */
export function durationOr(name: string, raw: string | undefined, fallback: number): number {
	return raw?.trim() ? parseDuration(name, raw) : fallback;
}

/** Like durationOr, and `off` for none. */
export function durationOrOff(name: string, raw: string | undefined, fallback: number | null): number | null {
	return raw?.trim().toLowerCase() === 'off' ? null : raw?.trim() ? parseDuration(name, raw) : fallback;
}

/**
 * The policy of a new session. Remember-me gives the remember-me preset and a persistent
 * cookie; otherwise the app's policy, with a browser-session cookie when the visitor was
 * offered remember-me and declined it.
 */
export function policyForSignIn(settings: SessionSettings, rememberMeRequested: boolean) {
	if (settings.rememberMeOffered && rememberMeRequested) return { policy: PRESETS['remember-me'], persistent: true };
	return { policy: settings.appPolicy, persistent: !settings.rememberMeOffered };
}
