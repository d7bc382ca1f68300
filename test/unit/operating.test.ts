import { failureMessage } from '../../activities/notify';
import { etaSeconds, progressLine } from '../../client/progress';
import { formatRuns } from '../../client/commands/runs';
import { parseConfig } from '../../config/load';
import { pipelineWorkflowId, runStamp, tableWorkflowId } from '../../common/workflow-ids';
import type { RunSummary } from '../../common/payloads';

test('table-sync IDs carry the date the run belongs to: the scheduled time when there is one', () => {
  expect(runStamp('2026-11-25T09:20:03.123Z')).toBe('2026-11-25T09:20:03Z');
  expect(runStamp('2026-11-25T09:20:03.123Z', new Date('2026-11-24T17:00:00Z'))).toBe('2026-11-24T17:00:00Z');
  expect(runStamp('2026-11-25T09:20:03.123Z', new Date('nonsense'))).toBe('2026-11-25T09:20:03Z');
  // A scheduled run's ID ends in its run time; a run started by hand has the pipeline's ID.
  expect(tableWorkflowId('bqsync-nightly-2026-11-25T02:00:00Z', '2026-11-25T02:00:00Z', 'shop.orders', 1)).toBe('bqsync-nightly-2026-11-25T02:00:00Z.shop.orders');
  expect(tableWorkflowId('bqsync-nightly', '2026-11-25T09:20:03Z', 'shop.orders', 1)).toBe('bqsync-nightly.2026-11-25T09:20:03Z.shop.orders');
  expect(tableWorkflowId('bqsync-nightly', '2026-11-25T02:00:00Z', 'shop.orders', 3)).toBe('bqsync-nightly.2026-11-25T02:00:00Z.shop.orders.3');
});

test('two runs of one pipeline for the same run time never share a table sync ID', () => {
  const night = '2026-11-25T02:00:00Z';
  const scheduled = tableWorkflowId(`bqsync-nightly-${night}`, night, 'shop.orders', 1);
  const byHand = tableWorkflowId('bqsync-nightly', night, 'shop.orders', 1);
  expect(scheduled).not.toBe(byHand);
  // The IDs of runs begun before, built on the pipeline's run ID: both runs' syncs had the same one.
  expect(tableWorkflowId(pipelineWorkflowId('nightly'), night, 'shop.orders', 1)).toBe(byHand);
});

const { config } = parseConfig(
  'temporal: { webUrl: "https://temporal.example.com/" }\nbigquery: { project: p }\nsources:\n  shop: { type: mysql, url: "${U}", tables: [a] }\npipelines:\n  nightly: { sources: [shop], notify: { webhookUrlEnv: HOOK } }\n',
  'bqsync.yaml',
);

const summary = (failed: number): RunSummary => ({
  pipeline: 'nightly',
  startedAt: '2026-11-25T02:00:00Z',
  succeeded: 1,
  failed,
  skipped: 0,
  running: 0,
  pending: 0,
  rowsLoaded: 5,
  results: [
    { key: 'shop.ok', kind: 'table', status: 'succeeded' },
    ...Array.from({ length: failed }, (_, i) => ({
      key: `shop.t${i}`,
      kind: 'table' as const,
      status: 'failed' as const,
      errorType: 'SchemaError',
      error: `shop.t${i}: column "x-y" cannot be a BigQuery column name`,
      workflowId: `bqsync-nightly.2026-11-25T02:00:00Z.shop.t${i}`,
    })),
  ],
});

test('the failure message names each failed table, its error type, message and Web UI link', () => {
  const { text, blocks } = failureMessage(config, { pipeline: 'nightly', workflowId: 'bqsync-nightly', runId: 'r1', summary: summary(2) });
  expect(text).toBe('bqsync: pipeline nightly failed: 2 of 3 tables/steps failed (1 succeeded, 0 skipped): shop.t0, shop.t1');
  const sections = blocks.map((b) => JSON.stringify(b));
  expect(sections[0]).toContain('<https://temporal.example.com/namespaces/default/workflows/bqsync-nightly/r1/history|');
  expect(sections[1]).toContain('*shop.t0* (SchemaError)\\nshop.t0: column \\"x-y\\" cannot be a BigQuery column name');
  expect(sections[1]).toContain('<https://temporal.example.com/namespaces/default/workflows/bqsync-nightly.2026-11-25T02%3A00%3A00Z.shop.t0/history|');
});

test('a run with many failures stays within Slack\'s block limit and counts the rest', () => {
  const { blocks } = failureMessage(config, { pipeline: 'nightly', workflowId: 'bqsync-nightly', runId: 'r1', summary: summary(60) });
  expect(blocks.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(blocks)).toContain('…and 40 more');
});

test('progress lines: rows, rate and ETA while running; the total at the end', () => {
  expect(progressLine({ key: 'shop.a', status: 'running', phase: 'extract', rows: 1500, rate: 500, estimate: 3000, etaSeconds: 3 })).toBe(
    'shop.a running (extract): 1,500 rows of ~3,000, 500 rows/s, ETA 3s',
  );
  expect(progressLine({ key: 'shop.a', status: 'running', rows: 0 })).toBe('shop.a running (starting): 0 rows');
  expect(progressLine({ key: 'shop.a', status: 'succeeded', rows: 3000, rate: 1000 })).toBe('shop.a succeeded: 3,000 rows, 1,000 rows/s');
  expect(progressLine({ key: 'shop.a', status: 'failed', rows: 0, error: 'boom' })).toBe('shop.a failed: boom');
});

test('ETA: rows left at the current rate, less the time since the rows were counted', () => {
  expect(etaSeconds(10_000, 4_000, 1_000, 50_000, 50_000)).toBe(6);
  expect(etaSeconds(10_000, 4_000, 1_000, 50_000, 52_000)).toBe(4);
  expect(etaSeconds(10_000, 4_000, 1_000, 50_000, 90_000)).toBe(0);
  expect(etaSeconds(undefined, 4_000, 1_000, 0, 0)).toBeUndefined();
  expect(etaSeconds(10_000, 0, undefined, 0, 0)).toBeUndefined();
});

test('runs are a table with a column per count; unknown counts show as -', () => {
  const text = formatRuns([
    { pipeline: 'nightly', workflowId: 'w', runId: 'r', status: 'terminated', startedAt: '2026-11-25T02:00:00.000Z', durationMs: 61_000, failedKeys: [], link: 'L' },
  ]);
  expect(text.split('\n')[1]).toMatch(/^2026-11-25T02:00:00Z\s+nightly\s+terminated\s+61\.0s\s+-\s+-\s+-\s+L$/);
});
