import { expect, type Page } from '@playwright/test';

/** Payloads that would run if a page ever parsed what a client sent as markup. */
export const SCRIPT = '<script>alert(1)</script>';
export const IMG = '"><img src=x onerror=alert(1)>';

/** Elements those payloads would create: no page of the app has an image or an onerror. */
export async function injectedElements(page: Page): Promise<number> {
	return page.evaluate(
		() =>
			document.querySelectorAll('img, [onerror]').length +
			[...document.scripts].filter((script) => script.textContent?.trim() === 'alert(1)').length
	);
}

/** Loads a page, which must answer 200 with its own heading and nothing injected. */
export async function visit(page: Page, path: string, heading: string): Promise<void> {
	const response = await page.goto(path);
	expect(response?.status(), path).toBe(200);
	await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
	expect(await injectedElements(page), `elements injected into ${path}`).toBe(0);
}

/** Dismisses and keeps every dialog (an alert(1) that ran); the tests expect none. */
export function collectDialogs(page: Page, dialogs: string[]): void {
	page.on('dialog', (dialog) => {
		dialogs.push(dialog.message());
		void dialog.dismiss();
	});
}
