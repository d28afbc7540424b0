import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { uniqueEmail } from './support/mail';
import { signInAs } from './support/sign-in';

/** A long address, as people have: the header must cut it short rather than wrap. */
const LONG_LOCAL_PART = 'firstname.middlename.lastname.header';

/**
 * The rows the signed-in header's items take: each item's vertical middle, grouped with any
 * item whose box spans it. Counted from the boxes the browser laid out, at the viewport given.
 */
async function headerRows(page: Page): Promise<number> {
	const boxes = await page
		.getByRole('banner')
		.locator('nav > a, nav .links > a, nav .who, nav button')
		.evaluateAll((elements) =>
			elements.map((element) => {
				const { top, bottom } = element.getBoundingClientRect();
				return { top, bottom };
			})
		);
	const rows: Array<{ top: number; bottom: number }> = [];
	for (const box of boxes) {
		const middle = (box.top + box.bottom) / 2;
		if (!rows.some((row) => middle >= row.top && middle <= row.bottom)) rows.push(box);
	}
	return rows.length;
}

for (const { width, height, rows } of [
	{ width: 1280, height: 800, rows: 1 },
	{ width: 375, height: 812, rows: 2 }
]) {
	test(`the signed-in header takes at most ${rows} row${rows > 1 ? 's' : ''} at ${width} px, a long address included`, async ({
		page
	}, testInfo) => {
		await page.setViewportSize({ width, height });
		const email = uniqueEmail(LONG_LOCAL_PART);
		await signInAs(page, email);
		await page.goto('/account');
		const banner = page.getByRole('banner');
		await expect(banner.getByRole('button', { name: 'Sign out' })).toBeVisible();
		for (const name of ['Account', 'Devices', 'Security log'])
			await expect(banner.getByRole('link', { name, exact: true })).toBeVisible();

		expect(await headerRows(page)).toBeLessThanOrEqual(rows);
		// Cut short on screen, whole for a screen reader and on hover.
		await expect(banner.locator('.who')).toHaveText(email);
		await expect(banner.locator('.who')).toHaveAttribute('title', email);
		const bannerHeight = (await banner.boundingBox())!.height;
		console.log(`header at ${width} px: ${await headerRows(page)} row(s), ${Math.round(bannerHeight)} px high`);
		await page.screenshot({ path: testInfo.outputPath(`header-${width}.png`) });
	});
}

test('/account names this device as the devices page does, and keeps the user agent as sent', async ({ page }) => {
	await signInAs(page, uniqueEmail('device-name'));
	await page.goto('/account/sessions');
	const current = page.getByTestId('device').filter({ hasText: 'This device' });
	const named = (await current.locator('h2').textContent())!.trim();
	expect(named).not.toBe('Unknown device');

	await page.goto('/account');
	await expect(page.locator('dt:text-is("Device") + dd')).toHaveText(named);
	const sent = await page.evaluate(() => navigator.userAgent);
	await expect(page.locator('dt:text-is("User agent") + dd code')).toHaveText(sent);
});
