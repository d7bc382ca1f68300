// The workflows a worker registers. Deterministic code only: no I/O, activity types only.
export { nightlySync, addTablesUpdate, statusQuery } from './nightly-sync';
export { tableSync } from './table-sync';
export { writeLocks } from './write-locks';
