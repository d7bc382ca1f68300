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
