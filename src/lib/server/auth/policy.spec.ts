import { describe, expect, it } from 'vitest';
import {
	appPolicyFrom,
	parseDuration,
	parsePresetName,
	policyForSignIn,
	PRESET_NAMES,
	PRESETS,
	type SessionPolicy,
	type SessionSettings
} from './policy';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

/** The message a function throws (fails the test if it does not throw). */
function thrownMessage(run: () => unknown): string {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(Error);
		return (error as Error).message;
	}
	throw new Error('expected an error, got none');
}

describe('parseDuration', () => {
	it.each([
		['3600', 3600],
		['1', 1],
		['45s', 45],
		['15m', 900],
		['1h', 3600],
		['30d', 2592000],
		[' 2h ', 7200],
		['1H', 3600],
		['15M', 900],
		['7D', 604800],
		['10S', 10],
		['90 m', 5400]
	])('reads %j as %d seconds', (raw, seconds) => {
		expect(parseDuration('SESSION_EXPIRES_IN', raw)).toBe(seconds);
	});

	it.each([
		'',
		'   ',
		'0',
		'0h',
		'-5',
		'-5m',
		'1.5h',
		'1w',
		'abc',
		'h',
		'10 minutes',
		'1h30m',
		'9007199254740992',
		'1e3'
	])('refuses %j, naming the variable and the accepted forms', (raw) => {
		const message = thrownMessage(() => parseDuration('SESSION_UPDATE_AGE', raw));
		expect(message).toBe(
			`SESSION_UPDATE_AGE="${raw}" is not a duration; use seconds (3600) or a number with s, m, h or d (15m, 1h, 30d)`
		);
	});

	it('refuses a number of days that overflows safe integers once converted to seconds', () => {
		// 2^53 / 86400 ≈ 1.04e11: safe as days, not as seconds.
		const days = `${Math.ceil(Number.MAX_SAFE_INTEGER / DAY) + 1}d`;
		expect(() => parseDuration('SESSION_EXPIRES_IN', days)).toThrow(`SESSION_EXPIRES_IN="${days}" is not a duration`);
		expect(() => parseDuration('SESSION_EXPIRES_IN', '9'.repeat(400))).toThrow('SESSION_EXPIRES_IN="');
	});

	it('refuses the largest safe number of seconds: no session or cookie may last beyond 400 days', () => {
		expect(() => parseDuration('X', String(Number.MAX_SAFE_INTEGER))).toThrow('longer than 400 days');
	});
});

describe('parsePresetName', () => {
	it('defaults to standard when unset or blank', () => {
		expect(parsePresetName(undefined)).toBe('standard');
		expect(parsePresetName('')).toBe('standard');
		expect(parsePresetName('  ')).toBe('standard');
	});

	it.each(['standard', 'high-security', 'remember-me', 'mobile'])('reads %s', (name) => {
		expect(parsePresetName(name)).toBe(name);
	});

	it('ignores case and surrounding spaces', () => {
		expect(parsePresetName('HIGH-SECURITY')).toBe('high-security');
		expect(parsePresetName(' Mobile ')).toBe('mobile');
	});

	it('refuses an unknown preset, listing all four', () => {
		expect(thrownMessage(() => parsePresetName('paranoid'))).toBe(
			'SESSION_PRESET="paranoid" is not a preset; choose one of standard, high-security, remember-me, mobile'
		);
		expect(() => parsePresetName('high_security')).toThrow('SESSION_PRESET="high_security" is not a preset');
	});
});

describe('PRESETS', () => {
	it('holds exactly the four presets of the product spec', () => {
		expect(PRESET_NAMES).toEqual(['standard', 'high-security', 'remember-me', 'mobile']);
		expect(PRESETS).toEqual({
			standard: { name: 'standard', idleSeconds: 7 * DAY, refreshSeconds: DAY, absoluteSeconds: 30 * DAY },
			'high-security': {
				name: 'high-security',
				idleSeconds: HOUR,
				refreshSeconds: 15 * MINUTE,
				absoluteSeconds: 12 * HOUR
			},
			'remember-me': { name: 'remember-me', idleSeconds: 30 * DAY, refreshSeconds: DAY, absoluteSeconds: 90 * DAY },
			mobile: { name: 'mobile', idleSeconds: 90 * DAY, refreshSeconds: 7 * DAY, absoluteSeconds: 365 * DAY }
		});
	});

	it.each(PRESET_NAMES)('ends every %s session at a definite time, later than its idle lifetime', (name) => {
		const { absoluteSeconds, idleSeconds } = PRESETS[name];
		expect(absoluteSeconds).not.toBeNull();
		expect(absoluteSeconds!).toBeGreaterThan(idleSeconds);
		// No cookie may outlive it, and browsers cap a cookie's Max-Age at 400 days.
		expect(absoluteSeconds!).toBeLessThanOrEqual(400 * DAY);
	});

	it('refreshes every preset before it expires', () => {
		for (const policy of Object.values(PRESETS)) expect(policy.refreshSeconds).toBeLessThan(policy.idleSeconds);
	});
});

describe('appPolicyFrom', () => {
	it('is the standard preset when nothing is set', () => {
		expect(appPolicyFrom({})).toEqual(PRESETS.standard);
	});

	it.each(PRESET_NAMES)('is the %s preset, under its own name, when only the preset is set', (name) => {
		expect(appPolicyFrom({ SESSION_PRESET: name })).toEqual(PRESETS[name]);
		expect(appPolicyFrom({ SESSION_PRESET: name }).name).toBe(name);
	});

	it('treats blank overrides as unset', () => {
		expect(
			appPolicyFrom({
				SESSION_PRESET: 'mobile',
				SESSION_EXPIRES_IN: '',
				SESSION_UPDATE_AGE: ' ',
				SESSION_ABSOLUTE_LIFETIME: ''
			})
		).toEqual(PRESETS.mobile);
	});

	it('is custom with the overridden durations and the rest from the preset', () => {
		expect(appPolicyFrom({ SESSION_PRESET: 'high-security', SESSION_EXPIRES_IN: '2h' })).toEqual<SessionPolicy>({
			name: 'custom',
			idleSeconds: 2 * HOUR,
			refreshSeconds: 15 * MINUTE,
			absoluteSeconds: 12 * HOUR
		});
		expect(appPolicyFrom({ SESSION_UPDATE_AGE: '6h' })).toEqual<SessionPolicy>({
			name: 'custom',
			idleSeconds: 7 * DAY,
			refreshSeconds: 6 * HOUR,
			absoluteSeconds: 30 * DAY
		});
		expect(appPolicyFrom({ SESSION_PRESET: 'mobile', SESSION_ABSOLUTE_LIFETIME: '180d' })).toEqual<SessionPolicy>({
			name: 'custom',
			idleSeconds: 90 * DAY,
			refreshSeconds: 7 * DAY,
			absoluteSeconds: 180 * DAY
		});
		expect(
			appPolicyFrom({
				SESSION_PRESET: 'standard',
				SESSION_EXPIRES_IN: '3600',
				SESSION_UPDATE_AGE: '10m',
				SESSION_ABSOLUTE_LIFETIME: '8h'
			})
		).toEqual<SessionPolicy>({
			name: 'custom',
			idleSeconds: HOUR,
			refreshSeconds: 10 * MINUTE,
			absoluteSeconds: 8 * HOUR
		});
	});

	it('turns the absolute lifetime off with SESSION_ABSOLUTE_LIFETIME=off', () => {
		expect(appPolicyFrom({ SESSION_PRESET: 'high-security', SESSION_ABSOLUTE_LIFETIME: 'off' })).toEqual<SessionPolicy>(
			{
				name: 'custom',
				idleSeconds: HOUR,
				refreshSeconds: 15 * MINUTE,
				absoluteSeconds: null
			}
		);
		expect(
			appPolicyFrom({ SESSION_PRESET: 'high-security', SESSION_ABSOLUTE_LIFETIME: ' OFF ' }).absoluteSeconds
		).toBeNull();
	});

	it.each(PRESET_NAMES)(
		"keeps the %s preset's absolute lifetime unless overridden, and lets `off` remove it",
		(name) => {
			expect(appPolicyFrom({ SESSION_PRESET: name, SESSION_EXPIRES_IN: '2h', SESSION_UPDATE_AGE: '1h' })).toMatchObject(
				{
					name: 'custom',
					absoluteSeconds: PRESETS[name].absoluteSeconds
				}
			);
			expect(appPolicyFrom({ SESSION_PRESET: name, SESSION_ABSOLUTE_LIFETIME: '2d' }).absoluteSeconds).toBe(2 * DAY);
			expect(appPolicyFrom({ SESSION_PRESET: name, SESSION_ABSOLUTE_LIFETIME: 'off' }).absoluteSeconds).toBeNull();
		}
	);

	it('names the variable of a bad duration', () => {
		expect(() => appPolicyFrom({ SESSION_EXPIRES_IN: 'soon' })).toThrow('SESSION_EXPIRES_IN="soon" is not a duration');
		expect(() => appPolicyFrom({ SESSION_UPDATE_AGE: '1w' })).toThrow('SESSION_UPDATE_AGE="1w" is not a duration');
		expect(() => appPolicyFrom({ SESSION_ABSOLUTE_LIFETIME: 'never' })).toThrow(
			'SESSION_ABSOLUTE_LIFETIME="never" is not a duration'
		);
		expect(() => appPolicyFrom({ SESSION_PRESET: 'paranoid' })).toThrow('SESSION_PRESET="paranoid" is not a preset');
	});

	it.each([
		[{ SESSION_EXPIRES_IN: '1h', SESSION_UPDATE_AGE: '1h' }, 3600, 3600],
		[{ SESSION_EXPIRES_IN: '1h', SESSION_UPDATE_AGE: '2h' }, 7200, 3600],
		[{ SESSION_PRESET: 'standard', SESSION_EXPIRES_IN: '12h' }, DAY, 12 * HOUR],
		[{ SESSION_PRESET: 'high-security', SESSION_EXPIRES_IN: '15m' }, 15 * MINUTE, 15 * MINUTE],
		[{ SESSION_PRESET: 'mobile', SESSION_UPDATE_AGE: '90d' }, 90 * DAY, 90 * DAY]
	])('refuses a refresh no shorter than the expiry (%j)', (env, refresh, idle) => {
		expect(thrownMessage(() => appPolicyFrom(env))).toBe(
			`SESSION_UPDATE_AGE (${refresh}s) must be shorter than SESSION_EXPIRES_IN (${idle}s), or sessions expire before they are refreshed`
		);
	});

	it('accepts a refresh one second shorter than the expiry', () => {
		expect(appPolicyFrom({ SESSION_EXPIRES_IN: '3600', SESSION_UPDATE_AGE: '3599' })).toMatchObject({
			idleSeconds: 3600,
			refreshSeconds: 3599
		});
	});
});

describe('policyForSignIn', () => {
	const appPolicy: SessionPolicy = {
		name: 'custom',
		idleSeconds: 2 * HOUR,
		refreshSeconds: MINUTE,
		absoluteSeconds: null
	};
	const offered: SessionSettings = { appPolicy, rememberMeOffered: true };
	const notOffered: SessionSettings = { appPolicy, rememberMeOffered: false };

	it('gives the remember-me preset and a persistent cookie when offered and requested', () => {
		const result = policyForSignIn(offered, true);
		expect(result).toEqual({ policy: PRESETS['remember-me'], persistent: true });
		expect(result.policy.idleSeconds).toBe(30 * DAY);
	});

	it('gives the app policy and a browser-session cookie when offered and declined', () => {
		expect(policyForSignIn(offered, false)).toEqual({ policy: appPolicy, persistent: false });
	});

	it('gives the app policy and a persistent cookie when not offered, whatever was requested', () => {
		expect(policyForSignIn(notOffered, true)).toEqual({ policy: appPolicy, persistent: true });
		expect(policyForSignIn(notOffered, false)).toEqual({ policy: appPolicy, persistent: true });
	});
});

describe('durations longer than a cookie may live', () => {
	it('are refused with the variable named', () => {
		expect(parseDuration('SESSION_EXPIRES_IN', '400d')).toBe(400 * 86_400);
		expect(() => parseDuration('SESSION_EXPIRES_IN', '401d')).toThrow(
			'SESSION_EXPIRES_IN="401d" is longer than 400 days'
		);
		expect(() => parseDuration('SESSION_EXPIRES_IN', '25000d')).toThrow('longer than 400 days');
	});
});
