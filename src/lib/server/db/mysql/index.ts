import type { Engine } from '../port';
import { describeMysql, openMysql, parseMysqlUrl, type MysqlDatabase, type MysqlTarget } from './connection';
import { mysqlFaultOf } from './faults';
import { mysqlStorage } from './storage';

export type { MysqlDatabase, MysqlTarget } from './connection';

/**
 * A server: `mysql://` or `mariadb://` URLs naming the database. mysql2, Drizzle's MySQL
 * dialect, Better Auth's Drizzle adapter with the `mysql` provider, migrations in drizzle/mysql/.
 */
export const mysql: Engine<MysqlTarget, MysqlDatabase> = {
	name: 'mysql',
	urlForm: 'mysql://user:password@host:3306/database (or mariadb://…) for MySQL or MariaDB',
	parseUrl: parseMysqlUrl,
	describe: ({ url }) => describeMysql(url),
	open: openMysql,
	storage: mysqlStorage,
	faultOf: mysqlFaultOf
};
