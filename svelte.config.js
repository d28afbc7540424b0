import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// SvelteKit's default origin check on form posts stays on: form actions call Better
		// Auth's API directly, which skips Better Auth's own origin check.
		adapter: adapter()
	}
};

export default config;
