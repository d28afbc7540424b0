/**
 * MySQL and MariaDB (`mysql://` and `mariadb://` DATABASE_URLs): mysql2, Drizzle's MySQL
 * dialect, Better Auth's Drizzle adapter with the `mysql` provider, migrations in drizzle/mysql/.
 */
export { openMysql, parseMysqlUrl, type MysqlDatabase, type MysqlOptions, type MysqlTarget } from './connection';
export { classifyMysqlFault, mysqlFaultOf } from './faults';
export { migrateMysql, MIGRATIONS_DIR } from './migrate';
export { mysqlPurge, mysqlRateLimits, mysqlSecurityEvents, mysqlSessionRows, pingMysql } from './storage';
export * as mysqlSchema from './schema';

/** Better Auth's Drizzle adapter's name for this dialect. */
export const BETTER_AUTH_PROVIDER = 'mysql';
