import adapter from '@sveltejs/adapter-node';
import { sveltekit, type Config as KitConfig } from '@sveltejs/kit/vite';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/** SvelteKit's configuration (also used by the soak suite's config, tests/soak/vitest.config.ts). */
export const kit: KitConfig = {
	preprocess: vitePreprocess(),
	// SvelteKit's origin check on form posts stays on, with no trusted origins: form actions
	// call Better Auth's API directly, which skips Better Auth's own origin check. The public
	// origin is not set here (paths.origin): it is ORIGIN at run time, which adapter-node
	// and Latchkey's own configuration both read, so one build serves any deployment.
	csrf: { trustedOrigins: [] },
	adapter: adapter(),
	// Sent as a header on every rendered page; scripts are allowed by SvelteKit's nonces/hashes only.
	csp: {
		mode: 'auto',
		directives: {
			'default-src': ['self'],
			'script-src': ['self'],
			// Svelte may set style attributes; no script can run from them.
			'style-src': ['self', 'unsafe-inline'],
			'img-src': ['self', 'data:'],
			'connect-src': ['self'],
			'base-uri': ['self'],
			'object-src': ['none'],
			'frame-ancestors': ['none']
		}
	}
};

export default defineConfig({
	plugins: [
		// SvelteKit 3 reads its configuration here; there is no svelte.config.js
		// (docs/decisions/0014-sveltekit-3-configuration.md).
		sveltekit(kit)
	],
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
