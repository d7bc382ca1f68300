import { bigQueryColumn, ColumnMapping } from '../../bigquery/types';
import { quotePostgres } from '../../sources/postgres/errors';
import { postgresLogicalType } from '../../sources/postgres/types';
import type { SourceConnection } from '../../sources/driver';
import type { TableTask } from '../../common/payloads';
import { tablePermits } from '../../common/write-locks';
import { chunkingKey } from '../../activities/table-sync/key-ranges';
import { schemaHash } from '../../activities/table-sync/range-plan';
import { planBlockRanges } from '../../activities/table-sync/block-chunks';
import { blockSplit } from '../../activities/table-sync/block-ranges';
import { checkSnapshotId } from '../../sources/postgres/snapshot-id';
import { beginInSnapshot } from '../../sources/postgres/sql';
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

describe('block ranges of a table without an integer key', () => {
  const covered = (ranges: { from: string; below?: string }[]) => ranges.map((r) => [Number(r.from), r.below === undefined ? null : Number(r.below)]);

  test('about chunkRows rows each from the estimate, every block from 0 covered once, the last range open-ended', () => {
    expect(covered(planBlockRanges(1000, 30_000, 10_000))).toEqual([[0, 333], [333, 666], [666, null]]);
    expect(covered(planBlockRanges(9, 30_000, 10_000))).toEqual([[0, 3], [3, 6], [6, null]]);
    const many = planBlockRanges(12_345, 1_000_000, 7_000);
    expect(many).toHaveLength(Math.ceil(1_000_000 / 7_000));
    for (let i = 1; i < many.length; i++) expect(many[i].from).toBe(many[i - 1].below);
    expect(many[0].from).toBe('0');
    expect(many.at(-1)!.below).toBeUndefined();
  });

  test('never more ranges than blocks, and an empty or tiny table is one open range', () => {
    expect(covered(planBlockRanges(2, 1_000_000, 10))).toEqual([[0, 1], [1, null]]);
    expect(covered(planBlockRanges(0, 50_000, 10_000))).toEqual([[0, null]]);
    expect(covered(planBlockRanges(1, 50_000, 10_000))).toEqual([[0, null]]);
    expect(planBlockRanges(10_000_000, 1e12, 1)).toHaveLength(10_000);
  });

  const pgSource = (rows: number, exportFails?: string) =>
    ({
      estimateRows: async () => new Map([['t', rows]]),
      endSnapshot: async () => undefined,
      sharedSnapshots: {
        tableBlocks: async () => 300,
        exportSnapshot: async () => {
          if (exportFails) throw new Error(exportFails);
          return { id: '00000003-0000001B-1', fingerprint: 'f' };
        },
      },
    }) as unknown as SourceConnection;

  test('split when the engine shares snapshots, the table is over chunkRows and more than one range may run', async () => {
    const many = { ...task, parallelRanges: 3 };
    expect(await blockSplit(pgSource(3000), many)).toEqual({ ranges: planBlockRanges(300, 3000, 1000) });
    expect(await blockSplit(pgSource(900), many)).toBeUndefined();
    expect(await blockSplit(pgSource(3000), { ...task, parallelRanges: 1 })).toBeUndefined();
    // MySQL: no shared snapshots.
    expect(await blockSplit({ estimateRows: async () => new Map([['t', 3000]]) } as unknown as SourceConnection, many)).toBeUndefined();
  });

  test('a server that cannot export a snapshot reads the table in one piece, and says why', async () => {
    const split = await blockSplit(pgSource(3000, 'cannot export a snapshot here'), { ...task, parallelRanges: 3 });
    expect(split).toEqual({ onePiece: 'read in one piece: the source cannot share a snapshot between sessions (cannot export a snapshot here)' });
  });

  test('a source whose concurrency leaves no permit for the snapshot holder reads in one piece, and says why', async () => {
    const split = await blockSplit(pgSource(3000), { ...task, parallelRanges: 3 }, 1);
    expect(split).toEqual({
      onePiece: "read in one piece: block ranges need the source's concurrency to be 2 or more (one session holds the shared snapshot while the others read), and it is 1",
    });
    // Under chunkRows it is one piece anyway, and nothing needs saying.
    expect(await blockSplit(pgSource(900), { ...task, parallelRanges: 3 }, 1)).toBeUndefined();
  });
});

describe('the snapshot ID spliced into SET TRANSACTION SNAPSHOT', () => {
  test("pg_export_snapshot's forms pass; anything else is refused before it reaches SQL", () => {
    for (const id of ['00000003-0000001B-1', '00000002-000008A8-12', '0000000A-7']) expect(checkSnapshotId(id)).toBe(id);
    for (const id of ["00000003-0000001B-1'; DROP TABLE t; --", '00000003-0000001b-1', '', '3-1B-1', '00000003-0000001B-1 ', '00000003-0000001B-']) {
      expect(() => checkSnapshotId(id)).toThrow(/not a PostgreSQL snapshot ID/);
    }
    expect(beginInSnapshot('00000003-0000001B-1')).toMatch(/^BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '00000003-0000001B-1'; SET LOCAL TimeZone/);
  });
});
