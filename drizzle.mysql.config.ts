import { defineConfig } from 'drizzle-kit';

export default defineConfig({
	dialect: 'mysql',
	schema: './src/lib/server/db/mysql/schema.ts',
	out: './drizzle/mysql'
});
