import type { SourceConfig } from '../config/schema';
import type { SourceDriver } from './driver';
import { mysqlDriver } from './mysql/driver';
import { postgresDriver } from './postgres/driver';

export type SourceType = SourceConfig['type'];

/**
 * The driver of every source type the config accepts. A mapped type: a new member of the
 * config's `type` enum does not compile until it has a driver here.
 */
export const DRIVERS: { readonly [T in SourceType]: SourceDriver } = {
  mysql: mysqlDriver,
  postgres: postgresDriver,
};

export function driverFor(type: SourceType): SourceDriver {
  return DRIVERS[type];
}

/**
 * Embulk input plugins (`in: type:`) whose configs `bqsync import` reads: the source type,
 * the URL scheme and default port of a connection URL, and whether Embulk's `database:`
 * is the schema bqsync reads (MySQL) or holds schemas of its own (`schema:`, default public).
 */
export const EMBULK_INPUTS: Record<string, { type: SourceType; scheme: string; defaultPort: number; databaseIsSchema: boolean }> = {
  mysql: { type: 'mysql', scheme: 'mysql', defaultPort: 3306, databaseIsSchema: true },
  postgresql: { type: 'postgres', scheme: 'postgres', defaultPort: 5432, databaseIsSchema: false },
};
