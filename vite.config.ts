import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		// A test that asserts nothing passes whatever the code does: each must assert something.
		expect: { requireAssertions: true },
		// The soak suite has a config of its own: tests/soak/vitest.config.ts (npm run test:soak).
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
			}
		]
	}
});
