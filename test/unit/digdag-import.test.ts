/**
 * `bqsync import`'s reading of Digdag and Embulk files: the fixture project
 * (test/fixtures/digdag-project) and small projects made here for single cases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { importProject } from '../../client/import/build';
import { simpleQuery } from '../../client/import/embulk';
import { parseConfig } from '../../config/load';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'digdag-project');

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-digdag-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

const mysqlIn = (table: string, extra = '') => `in:\n  type: mysql\n  host: db\n  user: u\n  password: pw\n  database: shop\n  table: ${table}\n${extra}`;
const bqOut = (table: string, extra = '') => `out:\n  type: bigquery\n  project: p\n  dataset: shop_raw\n  table: ${table}\n${extra}`;

describe('the fixture project', () => {
  const result = importProject(FIXTURE);
  const config = parse(result.yaml);

  it('becomes a config that validates, with no password and URLs from the environment', () => {
    const vars = { GCP_PROJECT: 'p', SHOP_DATABASE: 'shop' };
    Object.assign(process.env, vars);
    try {
      expect(() => parseConfig(result.yaml, 'bqsync.yaml')).not.toThrow();
    } finally {
      for (const v of Object.keys(vars)) delete process.env[v];
    }
    expect(result.yaml).not.toMatch(/s3cr3t|password:/);
    expect(Object.values(config.sources).map((s) => (s as { url: string }).url).sort()).toEqual([
      '${BILLING_POSTGRES_URL}', '${SHOP_MYSQL_URL_2}', '${SHOP_MYSQL_URL}', '${SHOP_MYSQL_URL}',
    ]);
  });

  it('maps schedules and time zones, _parallel limits, _error and task order', () => {
    expect(config.pipelines.shop_nightly.schedule).toEqual({ cron: '0 7 * * *', timezone: 'Asia/Tokyo' });
    expect(config.pipelines.catalog_hourly.schedule).toEqual({ cron: '15 * * * *', timezone: 'Asia/Tokyo' });
    expect(config.pipelines.billing_nightly).toMatchObject({ schedule: { cron: '30 2 * * *', timezone: 'UTC' }, concurrency: 3, notify: { webhookUrlEnv: 'BQSYNC_WEBHOOK_URL' } });
    // +ledger runs its three tasks one after another inside the parallel +load group.
    const tables = config.sources.shop_nightly.tables as { name: string; after?: string[] }[];
    expect(tables.find((t) => t.name === 'ledger_010')?.after).toEqual(['shop_nightly.ledger_007']);
    // The marts wait for the whole +load group; the second mart for the first.
    const steps = config.pipelines.shop_nightly.steps as { name: string; after: string[]; sql: string }[];
    expect(steps.map((s) => [s.name, s.after.length])).toEqual([['daily_sales', 6], ['customer_countries', 1]]);
    expect(steps[0].sql).toContain('CREATE OR REPLACE TABLE `{{project}}.{{dataset}}.daily_sales` AS');
    expect(steps[0].sql).toContain('{{session_date_compact}} AS session,\n  {{session_date}} AS session_day');
  });

  it('require> becomes requires: the other pipeline\'s tables, and its steps wait for them', () => {
    const marts = config.pipelines.billing_marts;
    expect(marts.sources).toEqual([]);
    expect(marts.requires).toEqual([{ pipeline: 'billing_nightly', tables: expect.arrayContaining(['billing.invoices', 'billing.events_024']) }]);
    expect(marts.requires[0].tables).toHaveLength(11);
    expect(marts.steps.map((s: { name: string; after: string[] }) => [s.name, s.after.length])).toEqual([['monthly', 11]]);
    expect(config.pipelines.billing_nightly.steps).toBeUndefined();
  });

  it('maps modes, incremental columns, where:, queries, partitioning and clustering', () => {
    const billing = config.sources.billing.tables as Record<string, unknown>[];
    const entry = (tables: unknown[], name: string) => tables.find((t) => t === name || (t as { name?: string }).name === name);
    expect(entry(billing, 'invoices')).toEqual({ name: 'invoices', mode: 'append', cursor: 'issued_at' });
    expect(entry(billing, 'payments')).toEqual({ name: 'payments', mode: 'merge', cursor: 'paid_at', key: ['id'] });
    expect(entry(billing, 'events_018')).toBe('events_018'); // append without a cursor: replace, the slice left out
    expect(entry(billing, 'events_024')).toEqual({ name: 'events_024', where: 'occurred_at >= {{last_session_date}}' });
    const shop = config.sources.shop_nightly.tables as unknown[];
    expect(entry(shop, 'ledger_007')).toMatchObject({ mode: 'append', cursor: 'booked_on', where: 'booked_on >= {{session_date}}' });
    expect(entry(shop, 'orders')).toMatchObject({ partitionBy: { column: 'ordered_at', granularity: 'DAY' } });
    expect(entry(config.sources.shop.tables, 'catalog_008')).toEqual({ name: 'catalog_008', clusterBy: ['status'] });
    expect(entry(config.sources.shop.tables, 'catalog_014')).toEqual({ name: 'catalog_014', where: "status <> 'retired'" });
  });

  it('reports what it did not carry over, per file and line', () => {
    const at = (file: string, line: number) => result.report.notes.filter((n) => n.file === file && n.line === line).map((n) => `${n.kind}: ${n.what}`);
    expect(at('shop_nightly.dig', 8)).toEqual(['changed: sla: +notice']);
    expect(config.pipelines.shop_nightly.sla).toEqual({ time: '09:00' });
    expect(at('shop_nightly.dig', 29)).toEqual(['changed: _retry: 3']);
    // Three retries after the first attempt, at bqsync's default backoff.
    expect(config.pipelines.shop_nightly.retry).toEqual({ attempts: 4 });
    expect(at('embulk/shop/order_items.yml.liquid', 10)).toEqual(['unmapped: out: dataset_old']);
    expect(at('embulk/shop/ledger_013.yml', 13)).toEqual(['unmapped: ${gcp_project}']);
    expect(at('embulk/common/_shop_in.yml.liquid', 5)).toEqual(['changed: password']);
    expect(at('catalog_hourly.dig', 21)).toEqual(['unmapped: call> report_catalog.dig']);
  });
});

describe('single cases', () => {
  it('schedules: weekly>, monthly>, minutes_interval>, and seconds dropped with a note', () => {
    const dir = project({
      'w.dig': 'schedule:\n  weekly>: Sun,09:30:15\n+t:\n  embulk>: t.yml\n',
      'm.dig': 'schedule:\n  monthly>: 1,04:00:00\n+t:\n  embulk>: t2.yml\n',
      'i.dig': 'schedule:\n  minutes_interval>: 30\n+t:\n  embulk>: t3.yml\n',
      't.yml': mysqlIn('a') + bqOut('a'),
      't2.yml': mysqlIn('b') + bqOut('b'),
      't3.yml': mysqlIn('c') + bqOut('c'),
    });
    const r = importProject(dir);
    const c = parse(r.yaml);
    expect(c.pipelines.w.schedule.cron).toBe('30 9 * * SUN');
    expect(c.pipelines.m.schedule.cron).toBe('0 4 1 * *');
    expect(c.pipelines.i.schedule.every).toBe('30m');
    expect(r.report.notes.find((n) => n.file === 'w.dig')?.todo).toContain('seconds were dropped');
  });

  it('_retry: limit and interval become the pipeline\'s retry:; constant waits stay constant, the largest limit wins', () => {
    const dir = project({
      'c.dig': '+g:\n  _retry:\n    limit: 2\n    interval: 30\n  +t:\n    embulk>: t.yml\n',
      'e.dig':
        '+g:\n  _retry: { limit: 5, interval: 10, interval_type: exponential }\n  +t:\n    embulk>: t2.yml\n  +q:\n    bq>: q.sql\n    destination_table: marts.daily\n' +
        '+h:\n  _retry: 1\n  embulk>: t3.yml\n+r:\n  bq>: q.sql\n  destination_table: marts.other\n',
      'q.sql': 'SELECT 1\n',
      'x.dig': '+g:\n  _retry: often\n  embulk>: t4.yml\n',
      't.yml': mysqlIn('a') + bqOut('a'),
      't2.yml': mysqlIn('b') + bqOut('b'),
      't3.yml': mysqlIn('c') + bqOut('c'),
      't4.yml': mysqlIn('d') + bqOut('d'),
    });
    const r = importProject(dir);
    const c = parse(r.yaml);
    expect(c.pipelines.c.retry).toEqual({ attempts: 3, interval: '30s', maxInterval: '30s' });
    expect(c.pipelines.e.retry).toEqual({ attempts: 6, interval: '10s' });
    expect(c.pipelines.x.retry).toBeUndefined();
    // A bq> task takes the _retry: of its group as its step's; one outside any keeps the step default.
    const steps = c.pipelines.e.steps as { name: string; retry?: object }[];
    expect(steps.map((st) => [st.name, st.retry])).toEqual([
      ['q', { attempts: 6, interval: '10s' }],
      ['r', undefined],
    ]);
    expect(r.report.notes.find((n) => n.file === 'x.dig' && n.what.startsWith('_retry'))).toMatchObject({ kind: 'unmapped' });
    expect(r.report.notes.find((n) => n.file === 'c.dig' && n.what.startsWith('_retry'))?.todo).toContain('3 attempts, 30s apart;');
  });

  it('Liquid: env. variables become environment references, includes are inlined, other tags reported', () => {
    const dir = project({
      'p.dig': '+t:\n  embulk>: cfg/t.yml.liquid\n',
      'cfg/t.yml.liquid': "in:\n{% include 'inc/db' %}\n  table: t\n{% if env.X %}\n  where: a = 1\n{% endif %}\nout:\n  type: bigquery\n  project: {{ env.PROJ | default: 'dev-proj' }}\n  dataset: raw\n",
      'cfg/inc/_db.yml.liquid': '  type: postgresql\n  host: {{ env.PGHOST }}\n  user: u\n  database: {{ env.PGDATABASE }}\n',
    });
    const r = importProject(dir);
    const c = parse(r.yaml);
    expect(c.bigquery.project).toBe('${PROJ:-dev-proj}');
    expect(Object.values(c.sources)[0]).toMatchObject({ type: 'postgres', schema: 'public', dataset: 'raw', tables: ['t'] });
    expect(r.variables).toEqual({ PGDATABASE_POSTGRES_URL: 'postgres://u:<password>@<$PGHOST>:5432/<$PGDATABASE>' });
    const tags = r.report.notes.filter((n) => n.file === path.join('cfg', 't.yml.liquid') && /Liquid tags/.test(n.todo));
    expect(tags.map((n) => n.line)).toEqual([4, 6]);
  });

  it('queries: a single table with a condition becomes table + where:, anything else is refused', () => {
    expect(simpleQuery('SELECT * FROM `orders` WHERE status = 1;')).toEqual({ select: '*', table: 'orders', where: 'status = 1' });
    expect(simpleQuery('select id, name from "users" u')).toEqual({ select: 'id, name', table: 'users', where: undefined });
    expect(simpleQuery('SELECT * FROM a JOIN b ON a.id = b.id')).toBeUndefined();
    expect(simpleQuery('SELECT * FROM a WHERE id IN (SELECT id FROM b)')).toBeUndefined();
    expect(simpleQuery('SELECT kind, COUNT(*) FROM a GROUP BY kind')).toBeUndefined();
  });

  it('a where: with a variable it cannot map, or a "?" of its own, is left out and reported', () => {
    const dir = project({
      'p.dig': '+a:\n  embulk>: a.yml\n+b:\n  embulk>: b.yml\n',
      'a.yml': mysqlIn('a', "  where: \"d >= '${moment(session_time).format(\\\"YYYY\\\")}'\"\n") + bqOut('a', '  mode: replace\n'),
      'b.yml': mysqlIn('b', "  where: \"name LIKE '%?%'\"\n") + bqOut('b', '  mode: replace\n'),
    });
    const r = importProject(dir);
    const c = parse(r.yaml);
    expect(c.sources.shop.tables).toEqual(['a', { name: 'b', after: ['shop.a'] }]);
    expect(r.report.notes.filter((n) => n.kind === 'unmapped' && /where/.test(n.what)).map((n) => n.file)).toEqual(['a.yml', 'b.yml']);
  });
});
