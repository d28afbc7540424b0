import type { Cookies } from '@sveltejs/kit';
import { describe, expect, it, vi } from 'vitest';
import { writeSessionCookie } from './handles';

describe("writeSessionCookie (the validator's verdict on the cookie)", () => {
	function fakeEvent() {
		const fake = { set: vi.fn(), delete: vi.fn(), get: vi.fn(), getAll: vi.fn(), serialize: vi.fn() };
		return { fake, event: { cookies: fake as unknown as Cookies } };
	}

	it('does nothing for no action', () => {
		const { fake, event } = fakeEvent();
		writeSessionCookie(event, null);

		for (const method of Object.values(fake)) expect(method).not.toHaveBeenCalled();
	});
});
