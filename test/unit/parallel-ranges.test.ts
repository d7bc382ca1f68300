import { bigQueryColumn, ColumnMapping } from '../../bigquery/types';
import { quotePostgres } from '../../sources/postgres/errors';
import { postgresLogicalType } from '../../sources/postgres/types';
import type { SourceConnection } from '../../sources/driver';
import type { TableTask } from '../../common/payloads';
import { tablePermits } from '../../common/write-locks';
import { chunkingKey } from '../../activities/table-sync/key-ranges';
import { schemaHash } from '../../activities/table-sync/range-plan';
import type { TableShape } from '../../activities/table-sync/shape';

const column = (name: string, typeName: string): ColumnMapping =>
  bigQueryColumn({ name, columnType: typeName, nullable: true, ...postgresLogicalType({ name, typeName, precision: null, scale: null }, quotePostgres) });

const task = { key: 's.t', table: 't', chunkRows: 1000 } as TableTask;
const shape = (...mappings: ColumnMapping[]) => ({ mappings }) as TableShape;
/** The two catalog look-ups chunkingKey makes, answered as a database would. */
const source = (primaryKey: string[], rows: number) =>
  ({ primaryKey: async () => primaryKey, estimateRows: async () => new Map([['t', rows]]) }) as unknown as SourceConnection;

describe('which tables go in key ranges', () => {
  test('a single integer key over chunkRows splits; under it, the table is read whole', async () => {
    expect((await chunkingKey(source(['id'], 5000), task, shape(column('id', 'int8'), column('v', 'text')), false))?.key.bigQueryName).toBe('id');
    expect(await chunkingKey(source(['id'], 500), task, shape(column('id', 'int8')), false)).toBeUndefined();
  });

  test('a composite key splits on its first column when that is an integer', async () => {
    const s = shape(column('tenant', 'int4'), column('code', 'text'), column('v', 'text'));
    expect((await chunkingKey(source(['tenant', 'code'], 5000), task, s, false))?.key.bigQueryName).toBe('tenant');
  });

  test('a key whose first column is not an integer, or no key at all, reads the table in one piece', async () => {
    const s = shape(column('code', 'text'), column('tenant', 'int4'));
    expect(await chunkingKey(source(['code', 'tenant'], 5000), task, s, false)).toBeUndefined();
    expect(await chunkingKey(source([], 5000), task, s, false)).toBeUndefined();
    expect(await chunkingKey(source(['id'], 5000), task, shape(column('id', 'numeric')), false)).toBeUndefined();
  });
});

describe('the permits a table sync asks of its source', () => {
  test('one per range read at once, never more than the source allows, one when unset', () => {
    expect(tablePermits(undefined, 4)).toBe(1);
    expect(tablePermits(3, 4)).toBe(3);
    expect(tablePermits(8, 4)).toBe(4);
    expect(tablePermits(8, undefined)).toBe(1);
  });
});

describe('the schema the ranges load with', () => {
  const fields = [
    { name: 'id', type: 'INT64', mode: 'NULLABLE' },
    { name: 'v', type: 'STRING', mode: 'NULLABLE', description: 'a comment' },
  ];
  test('a changed column type or a new column is another schema; a changed description is not', () => {
    expect(schemaHash(fields)).toBe(schemaHash([fields[0], { ...fields[1], description: 'another' }]));
    expect(schemaHash(fields)).not.toBe(schemaHash([fields[0], { ...fields[1], type: 'BYTES' }]));
    expect(schemaHash(fields)).not.toBe(schemaHash([...fields, { name: 'w', type: 'STRING', mode: 'NULLABLE' }]));
  });
});
