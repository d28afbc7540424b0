import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import { LeakScanLast } from './tests/soak/support/sequencer';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		// Only Vitest's root config takes a sequencer; it moves nothing but the soak leak scan.
		sequence: { sequencer: LeakScanLast },
		projects: [
			{
				extends: true,
				test: { name: 'unit', environment: 'node', include: ['src/**/*.spec.ts', 'bench/**/*.spec.ts'] }
			},
			{
				extends: true,
				test: {
					name: 'integration',
					environment: 'node',
					include: ['tests/integration/**/*.test.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000
				}
			},
			{
				extends: true,
				test: {
					// Production builds on real PostgreSQL and Redis: `npm run test:soak` (after a build).
					name: 'soak',
					environment: 'node',
					include: ['tests/soak/**/*.test.ts'],
					fileParallelism: false,
					globalSetup: ['tests/soak/support/global-setup.ts'],
					testTimeout: 120_000,
					hookTimeout: 120_000
				}
			}
		]
	}
});
