import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { TestServer } from './servers';

/** One browser of its own: its own cookie jar, one page. */
export interface Device {
	context: BrowserContext;
	page: Page;
}

/** `count` browsers on `app`, JavaScript on or off, each closed after `work` whatever happens. */
export async function withDevices<T>(
	browser: Browser,
	app: TestServer,
	javaScriptEnabled: boolean,
	count: number,
	work: (devices: Device[]) => Promise<T>
): Promise<T> {
	const devices: Device[] = [];
	try {
		for (let i = 0; i < count; i++) {
			const context = await browser.newContext({ baseURL: app.origin, javaScriptEnabled });
			devices.push({ context, page: await context.newPage() });
		}
		return await work(devices);
	} finally {
		for (const device of devices) await device.context.close();
	}
}
