/**
 * `npm run lint` runs these rules over src (src/lib and src/routes). Type-only imports count
 * too: a cycle of types still ties the modules' meaning together, and a later value import
 * closes it; a type from a driver still ties the module to that engine.
 */
module.exports = {
	forbidden: [
		{
			name: 'no-circular',
			severity: 'error',
			comment: 'An import cycle under src/lib/server: move the shared part to a leaf module, or pass the value in.',
			from: { path: '^src/lib/server/' },
			to: { circular: true }
		},
		{
			name: 'engines-stay-in-db',
			severity: 'error',
			comment:
				'Only src/lib/server/db/ knows the engines: use the storage port (db/port.ts through db/index.ts), ' +
				'not an engine folder, a database driver or an engine-specific Drizzle module.',
			from: { path: '^src/', pathNot: '^src/lib/server/db/' },
			to: {
				path: [
					'^src/lib/server/db/(sqlite|postgres|mysql)/',
					// Resolved into node_modules, or left as written when a package cannot be resolved. Outside
					// db/ no folder of src/ has these names, so a path segment is enough.
					'(^|/)(@types/)?(better-sqlite3|pg|pg-[a-z-]+|mysql2)(/|$)',
					'(^|/)drizzle-orm/[a-z0-9-]*(sqlite|postgres|pg|mysql)'
				]
			}
		}
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		tsPreCompilationDeps: true,
		tsConfig: { fileName: 'tsconfig.json' }
	}
};
