import { createHmac } from 'node:crypto';
import { parseConfig, destinationName } from '../../config/load';
import { tableSettingsProblems } from '../../config/table-settings';
import { transformer } from '../../activities/table-sync/column-rules';
import { cursorLowerBound } from '../../activities/table-sync/cursor';
import { buildMergeSql } from '../../bigquery/merge-sql';
import { planSchema } from '../../bigquery/schema-drift';
import { jobId, jobPrefix, parseJobId } from '../../bigquery/job-ids';
import { planKeyChunks } from '../../activities/table-sync/key-chunks';
import { buildReplaceSql } from '../../bigquery/replace-sql';

describe('cursor lower bound', () => {
  test('integer cursors step back by the overlap, exactly, beyond 2^53', () => {
    expect(cursorLowerBound('9223372036854775807', 'INT64', 1000)).toBe('9223372036854774807');
    expect(cursorLowerBound('42', 'INT64', 0)).toBe('42');
    // The default re-reads 10,000 IDs: auto-increment IDs commit out of order.
    expect(cursorLowerBound('20042', 'INT64', undefined)).toBe('10042');
  });
  test('time cursors step back by the overlap and round down, never up', () => {
    expect(cursorLowerBound('2024-03-01T00:05:00.123456', 'DATETIME', '10m')).toBe('2024-02-29 23:55:00.123');
    expect(cursorLowerBound('2024-03-01 00:05:00', 'TIMESTAMP', '0s')).toBe('2024-03-01 00:05:00.000');
    expect(cursorLowerBound('2024-03-01T00:05:00.999999', 'TIMESTAMP', '1h')).toBe('2024-02-29 23:05:00.999');
    // The default overlap is ten minutes.
    expect(cursorLowerBound('2024-03-01T00:05:00', 'DATETIME', undefined)).toBe('2024-02-29 23:55:00.000');
    expect(cursorLowerBound('2024-03-01', 'DATE', '1d')).toBe('2024-02-29');
  });
  test('an overlap of the wrong kind is refused with the reason', () => {
    expect(() => cursorLowerBound('42', 'INT64', '10m')).toThrow('an integer cursor takes a number as overlap, not "10m"');
    expect(() => cursorLowerBound('2024-03-01', 'DATE', 5)).toThrow('a DATE cursor takes a duration');
  });
});

describe('schema drift', () => {
  const f = (name: string, type: string) => ({ name, type, mode: 'NULLABLE' });
  test('a new column is added, a dropped one kept, a widening allowed', () => {
    const plan = planSchema([f('id', 'INTEGER'), f('gone', 'STRING'), f('amount', 'INT64')], [f('id', 'INT64'), f('amount', 'NUMERIC'), f('added', 'DATE')], false);
    expect(plan.incompatible).toEqual([]);
    expect(plan.changes).toEqual({ added: ['added'], dropped: ['gone'], widened: [{ column: 'amount', from: 'INT64', to: 'NUMERIC' }] });
    expect(plan.fields.map((x) => x.name)).toEqual(['id', 'amount', 'added', 'gone']);
  });
  test('a type BigQuery cannot widen is refused, naming the column and both types', () => {
    const plan = planSchema([f('code', 'INT64'), f('price', 'NUMERIC')], [f('code', 'STRING'), f('price', 'INT64')], false);
    expect(plan.incompatible).toEqual(['column code changed from INT64 to STRING', 'column price changed from NUMERIC to INT64']);
  });
  test('a full refresh takes the source schema as it is', () => {
    const plan = planSchema([f('code', 'INT64'), f('gone', 'STRING')], [f('code', 'STRING')], true);
    expect(plan).toEqual({ fields: [f('code', 'STRING')], changes: { added: [], dropped: [], widened: [] }, incompatible: [] });
  });
});

describe('merge statement', () => {
  const base = { target: 'p.d.orders', staging: 'p.d._stage', columns: ['id', 'total', 'deleted_at'], key: ['id'] };
  test('append inserts only rows whose key is new', () => {
    expect(buildMergeSql({ ...base, mode: 'append' })).toBe(
      'MERGE `p.d.orders` T USING `p.d._stage` S ON T.`id` = S.`id`\n' +
        'WHEN NOT MATCHED THEN INSERT (`id`, `total`, `deleted_at`) VALUES (S.`id`, S.`total`, S.`deleted_at`)',
    );
  });
  test('merge updates, inserts, and deletes rows marked deleted', () => {
    const sql = buildMergeSql({ ...base, mode: 'merge', deleteWhen: { column: 'deleted_at', type: 'TIMESTAMP' } });
    expect(sql).toContain('WHEN MATCHED AND S.`deleted_at` IS NOT NULL THEN DELETE');
    expect(sql).toContain('WHEN MATCHED THEN UPDATE SET `total` = S.`total`, `deleted_at` = S.`deleted_at`');
    expect(sql).toContain('WHEN NOT MATCHED AND NOT (S.`deleted_at` IS NOT NULL) THEN INSERT');
    expect(buildMergeSql({ ...base, mode: 'merge', deleteWhen: { column: 'deleted_at', type: 'BOOL' } })).toContain('S.`deleted_at` IS TRUE');
  });
  test('identifiers that are not BigQuery names never reach the SQL', () => {
    expect(() => buildMergeSql({ ...base, columns: ['id', 'x`; DROP TABLE t; --'], mode: 'append' })).toThrow('cannot be used as a BigQuery identifier');
  });
});

describe('column rules', () => {
  test('mask keeps the last four characters, counting an emoji as one', () => {
    const mask = transformer('mask', 'shop.people');
    expect(mask('+81 90 1234 5678')).toBe('************5678');
    expect(mask('ab😀d')).toBe('****');
    expect(mask('12345😀')).toBe('**345😀');
  });
  test('hash is HMAC-SHA256 with the key from the environment, and refuses a short key', () => {
    process.env.BQSYNC_HASH_KEY = 'k'.repeat(32);
    expect(transformer('hash', 'shop.people')('a@example.com')).toBe(createHmac('sha256', 'k'.repeat(32)).update('a@example.com').digest('hex'));
    process.env.BQSYNC_HASH_KEY = 'short';
    expect(() => transformer('hash', 'shop.people')).toThrow('shop.people: hashed columns need a secret key of at least 16 characters in the environment variable BQSYNC_HASH_KEY');
    delete process.env.BQSYNC_HASH_KEY;
  });
});

describe('table settings in the config file', () => {
  test('append and merge need a cursor; deleteWhen needs merge; a column under two rules is refused', () => {
    expect(tableSettingsProblems({ mode: 'append' })).toEqual([
      'mode append needs a cursor: column (an integer, date or time that grows with each insert)',
    ]);
    expect(tableSettingsProblems({ mode: 'append', cursor: 'id', deleteWhen: 'gone' })).toEqual(['deleteWhen: applies only to mode merge']);
    expect(tableSettingsProblems({ columns: { exclude: ['email'], hash: ['email'], mask: [] } })).toEqual([
      'column "email" is listed under both columns.exclude and columns.hash',
    ]);
    expect(tableSettingsProblems({ mode: 'merge', cursor: 'updated_at', key: ['email'], columns: { exclude: [], hash: ['email', 'updated_at'], mask: [] } })).toEqual([
      'cursor column "updated_at" cannot be under columns.hash',
      'key column "email" cannot be under columns.hash: a merge finds rows by their key, and a hashed key changes with the hash key, ' +
        'so rows would be inserted twice instead of updated; hash other columns, or use mode replace',
    ]);
  });
  test('the error names the file, the source and the table', () => {
    const yaml = `
bigquery: { project: p }
sources:
  shop:
    type: mysql
    url: \${SHOP_URL}
    tables: [{ name: orders, mode: merge }]
pipelines: { nightly: { sources: [shop] } }
`;
    expect(() => parseConfig(yaml, 'bqsync.yaml')).toThrow(
      'sources.shop.tables "orders": mode merge needs a cursor: column',
    );
  });
  test('naming rules make BigQuery table names; destination: wins', () => {
    const source = { type: 'mysql', url: 'x', concurrency: 4, naming: { tablePrefix: 'shop_', case: 'lower' } } as const;
    expect(destinationName(source, 'Orders')).toBe('shop_orders');
    expect(destinationName(source, { name: 'Orders', destination: 'orders_v2' })).toBe('orders_v2');
  });
});

test('job IDs share a prefix in every attempt of one table sync, differ between syncs, and name their attempt', () => {
  const a = jobPrefix('bqsync-nightly.20241101T020000Z.shop.orders', 'run-1');
  expect(a).toBe(jobPrefix('bqsync-nightly.20241101T020000Z.shop.orders', 'run-1'));
  expect(a).not.toBe(jobPrefix('bqsync-nightly.20241101T020000Z.shop.orders', 'run-2'));
  expect(jobId(a, 1, 'load', 1, 1500)).toMatch(/^bqsync_bqsync-nightly_20241101T020000Z_shop_orders_[0-9a-f]{16}_a1_load1_1500r$/);
  // Two attempts never share a job; IDs of versions without the attempt are still read.
  expect(jobId(a, 2, 'load', 1, 1500)).not.toBe(jobId(a, 1, 'load', 1, 1500));
  expect(parseJobId(a, jobId(a, 3, 'chunk', 4, 10, '99'))).toEqual({ attempt: 3, kind: 'chunk', n: 4, rows: 10, to: '99' });
  expect(parseJobId(a, `${a}_merge2_105r`)).toEqual({ kind: 'merge', n: 2, rows: 105, to: undefined });
});

describe('key ranges of a large table', () => {
  test('about chunkRows rows each, the last open-ended so rows added meanwhile are read', () => {
    expect(planKeyChunks('1', '100', 100, 30)).toEqual([
      { from: '1', below: '26' },
      { from: '26', below: '51' },
      { from: '51', below: '76' },
      { from: '76' },
    ]);
  });
  test('a resumed load starts where the last landed range ended', () => {
    expect(planKeyChunks('1', '100', 100, 30, '51')).toEqual([{ from: '51', below: '76' }, { from: '76' }]);
    expect(planKeyChunks('1', '100', 100, 30, '500')).toEqual([{ from: '500' }]);
  });
  test('keys beyond 2^53 and a wrong estimate still give whole, non-overlapping ranges', () => {
    const chunks = planKeyChunks('9223372036854775000', '9223372036854775807', 10, 3);
    expect(chunks[0]).toEqual({ from: '9223372036854775000', below: '9223372036854775202' });
    expect(chunks.at(-1)).toEqual({ from: '9223372036854775606' });
    expect(planKeyChunks('1', '10', 1e12, 1).length).toBeLessThanOrEqual(10_000);
  });
});

test('the replacing statement keeps partitioning and clustering', () => {
  expect(
    buildReplaceSql('p.d.t', 'p.d._s', { timePartitioning: { type: 'MONTH', field: 'created_at' }, clustering: { fields: ['a', 'b'] } }, 'TIMESTAMP'),
  ).toBe('CREATE OR REPLACE TABLE `p.d.t`\nPARTITION BY TIMESTAMP_TRUNC(`created_at`, MONTH)\nCLUSTER BY `a`, `b`\nAS SELECT * FROM `p.d._s`');
  expect(buildReplaceSql('p.d.t', 'p.d._s', { rangePartitioning: { field: 'id', range: { start: '0', end: '1000', interval: '10' } } })).toContain(
    'PARTITION BY RANGE_BUCKET(`id`, GENERATE_ARRAY(0, 1000, 10))',
  );
});
