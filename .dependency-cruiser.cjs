/**
 * `npm run lint` fails on an import cycle under src/lib/server. Type-only imports count too: a
 * cycle of types still ties the modules' meaning together, and a later value import closes it.
 */
module.exports = {
	forbidden: [
		{
			name: 'no-circular',
			severity: 'error',
			comment: 'An import cycle under src/lib/server: move the shared part to a leaf module, or pass the value in.',
			from: { path: '^src/lib/server/' },
			to: { circular: true }
		}
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		tsPreCompilationDeps: true,
		tsConfig: { fileName: 'tsconfig.json' }
	}
};
