import { describe, expect, it } from 'vitest';
import { oauthErrorMessage } from './oauth-sign-in';

describe('oauthErrorMessage', () => {
	it('says nothing without an error', () => {
		expect(oauthErrorMessage(null)).toBeNull();
		expect(oauthErrorMessage('')).toBeNull();
	});

	it.each([
		['access_denied', 'Sign-in was cancelled at the provider. Nothing was changed.'],
		['state_mismatch', 'That sign-in attempt expired or was already used. Please start again.'],
		['please_restart_the_process', 'That sign-in attempt expired or was already used. Please start again.'],
		['email_not_found', 'The provider did not share an email address, which Latchkey needs to sign you in.']
	])('explains %s', (code, message) => {
		expect(oauthErrorMessage(code)).toBe(message);
	});

	it('explains unverified emails without naming anything the attacker typed', () => {
		expect(oauthErrorMessage('account_not_linked')).toContain('did not confirm that this email address is verified');
	});

	it('never echoes an unknown code, however it is written', () => {
		const message = oauthErrorMessage('<script>alert(1)</script>');
		expect(message).toBe(
			'The provider could not complete the sign-in. Please try again, or sign in with an email code.'
		);
	});
});
