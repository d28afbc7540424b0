import { requireAuth } from '#lib/server/auth/guards.ts';
import { getStorage } from '#lib/server/db/index.ts';
import { describeDevice } from '#lib/server/user-agent.ts';
import { listSecurityEvents } from '#lib/server/security-log.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user } = requireAuth();
	const page = Number.parseInt(event.url.searchParams.get('page') ?? '1', 10);
	const log = await listSecurityEvents(getStorage(), user.id, Number.isFinite(page) ? page : 1);
	return {
		now: new Date(),
		page: log.page,
		pages: log.pages,
		total: log.total,
		events: log.events.map((entry) => ({
			id: entry.id,
			type: entry.type,
			createdAt: entry.createdAt,
			ipAddress: entry.ipAddress,
			device: describeDevice(entry.userAgent),
			detail: entry.detail
		}))
	};
};
