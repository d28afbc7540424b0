import { fileURLToPath } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import { kit } from '../../vite.config';
import { LeakScanLast } from './support/sequencer';

/**
 * The soak suite's own Vitest config (`npm run test:soak`, after a build): production builds on
 * real PostgreSQL and Redis. Its own file so that it can take a sequencer, which only a root
 * config may, without vite.config.ts importing test code.
 */
export default defineConfig({
	root: fileURLToPath(new URL('../..', import.meta.url)),
	plugins: [sveltekit(kit)],
	test: {
		name: 'soak',
		environment: 'node',
		// A test that asserts nothing passes whatever the code does: each must assert something.
		expect: { requireAssertions: true },
		include: ['tests/soak/**/*.test.ts'],
		fileParallelism: false,
		globalSetup: ['tests/soak/support/global-setup.ts'],
		testTimeout: 120_000,
		hookTimeout: 120_000,
		// The leak scan reads what every other file recorded: it runs last.
		sequence: { sequencer: LeakScanLast }
	}
});
