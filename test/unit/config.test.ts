import { parseConfig, resolveSourceUrl } from '../../config/load';
import { parallelRangesWarnings } from '../../config/parallel-ranges-warnings';
import { configProblems } from '../helpers/config-problems';

const base = (extra = '') => `
bigquery:
  project: p
sources:
  shop:
    type: mysql
    url: \${SHOP_URL}
    tables: [customers, { name: orders, after: [shop.customers] }]
pipelines:
  nightly:
    sources: [shop]
${extra}`;

const problems = (text: string): string => configProblems(text, 'conf/bqsync.yaml');

describe('config validation', () => {
  test('a valid file loads with defaults filled in', () => {
    const { config } = parseConfig(base(), 'bqsync.yaml');
    expect(config.sources.shop.concurrency).toBe(4);
    expect(config.pipelines.nightly.concurrency).toBe(8);
    expect(config.temporal.taskQueue).toBe('bqsync');
    expect(config.bigquery.stagingCompression).toBe('gzip');
  });

  test("a pipeline's retry: defaults to 4 attempts 15 s apart, doubling to 10 minutes; a bad one is named", () => {
    expect(parseConfig(base(), 'bqsync.yaml').config.pipelines.nightly.retry).toEqual({ attempts: 4, interval: '15s', maxInterval: '10m' });
    const set = parseConfig(base('    retry: { attempts: 6, interval: 1m }'), 'bqsync.yaml').config.pipelines.nightly.retry;
    expect(set).toEqual({ attempts: 6, interval: '1m', maxInterval: '10m' });
    expect(problems(base('    retry: { attempts: 0 }'))).toContain('pipelines.nightly.retry.attempts');
    expect(problems(base('    retry: { interval: soon }'))).toMatch(/pipelines\.nightly\.retry\.interval.*a duration such as/);
    expect(problems(base('    retry: { tries: 3 }'))).toContain('unknown key "pipelines.nightly.retry.tries"');
    expect(problems(base('    retry: { interval: 1m, maxInterval: 30s }'))).toMatch(/pipelines\.nightly\.retry\.maxInterval.*must not be shorter than interval/);
    expect(problems(base('    retry: { interval: 200ms }'))).toMatch(/pipelines\.nightly\.retry\.interval.*at least 1s/);
    // A SQL step has its own, 3 attempts 10 s apart by default.
    const steps = (retry = '') => base(`    steps:\n      - name: mart\n        after: [shop.customers]\n        sql: SELECT 1\n${retry}`);
    expect(parseConfig(steps(), 'bqsync.yaml').config.pipelines.nightly.steps[0].retry).toEqual({ attempts: 3, interval: '10s', maxInterval: '5m' });
    expect(parseConfig(steps('        retry: { attempts: 5 }\n'), 'bqsync.yaml').config.pipelines.nightly.steps[0].retry.attempts).toBe(5);
    expect(problems(steps('        retry: { attempts: 1.5 }\n'))).toContain('pipelines.nightly.steps.0.retry.attempts');
  });

  test('an unknown key names the file and the full key', () => {
    const msg = problems(base().replace('type: mysql', 'type: mysql\n    passwrd: x'));
    expect(msg).toContain('conf/bqsync.yaml');
    expect(msg).toContain('unknown key "sources.shop.passwrd"');
  });

  test('a literal password in a URL is refused with the way out', () => {
    const msg = problems(base().replace('${SHOP_URL}', 'mysql://app:s3cret@db:3306/shop'));
    expect(msg).toContain('sources.shop.url holds a literal password');
    expect(msg).toContain('${SHOP_URL}');
    expect(msg).not.toContain('s3cret');
  });

  test('a password-less local URL and env references are fine', () => {
    expect(() => parseConfig(base().replace('${SHOP_URL}', '${X:-mysql://root@127.0.0.1/db}'), 'f')).not.toThrow();
  });

  test('a dependency cycle is rejected and shown', () => {
    const text = base().replace('tables: [customers,', 'tables: [{ name: customers, after: [shop.orders] },');
    expect(problems(text)).toContain('cycle: shop.customers -> shop.orders -> shop.customers');
  });

  test('an after: that names nothing is rejected', () => {
    const text = base('    steps:\n      - { name: mart, after: [shop.nope], sql: "SELECT 1" }');
    expect(problems(text)).toContain('waits for "shop.nope"');
  });

  test('a pipeline naming an undeclared source is rejected', () => {
    expect(problems(base().replace('sources: [shop]', 'sources: [shop, crm]'))).toContain(
      'pipelines.nightly.sources names "crm"',
    );
  });

  test('a source without tables or discover is rejected', () => {
    const text = base().replace(/    tables: .*\n/, '');
    expect(problems(text)).toContain('sources.shop declares no tables');
  });

  test('YAML syntax errors give the line', () => {
    expect(problems('bigquery: [\n')).toMatch(/YAML syntax error at line \d/);
  });

  test('a YAML syntax error gives its line and column once, and the parser\'s reason', () => {
    expect(problems('bigquery:\n  project: p\n location: US\n')).toBe(
      'conf/bqsync.yaml: YAML syntax error at line 3, column 1: All mapping items must start at the same column',
    );
  });

  test('a bad table entry names the key inside the entry, not just "Invalid input"', () => {
    const tables = (entries: string) => base().replace(/    tables: .*\n/, `    tables: ${entries}\n`);
    expect(problems(tables('[{ name: orders, mode: apend }]'))).toBe(
      'conf/bqsync.yaml: sources.shop.tables.0.mode: Invalid option: expected one of "replace"|"append"|"merge"',
    );
    expect(problems(tables('[orders, 7]'))).toBe('conf/bqsync.yaml: sources.shop.tables.1: Invalid input: expected string or object');
    expect(problems(tables('[{ name: "order;lines", destination: "order;lines" }]'))).toBe(
      'conf/bqsync.yaml: sources.shop.tables "order;lines": destination "order;lines" is not a valid BigQuery table name ' +
        '(letters, marks, digits, underscores, dashes and spaces, at most 1,024)',
    );
    expect(problems(tables('[{ name: orders, colour: blue }]'))).toBe(
      'conf/bqsync.yaml: unknown key "sources.shop.tables.0.colour"; remove it or check its spelling',
    );
  });

  test('a missing environment variable is named when the URL is resolved', () => {
    const { config } = parseConfig(base(), 'bqsync.yaml');
    delete process.env.SHOP_URL;
    expect(() => resolveSourceUrl('shop', config.sources.shop, 'bqsync.yaml')).toThrow(
      /sources\.shop\.url needs the environment variable SHOP_URL/,
    );
    process.env.SHOP_URL = 'mysql://u:p@h/db';
    expect(resolveSourceUrl('shop', config.sources.shop)).toBe('mysql://u:p@h/db');
  });

  test('a schedule needs one of cron: and every:, a real time zone and durations', () => {
    const withSchedule = (body: string) => base().replace('    sources: [shop]', `    sources: [shop]\n    schedule: ${body}`);
    expect(() => parseConfig(withSchedule('{ cron: "0 2 * * *", timezone: Asia/Tokyo }'), 'f')).not.toThrow();
    expect(problems(withSchedule('{ cron: "0 2 * * *", every: 1h }'))).toContain('give exactly one of cron: or every:');
    expect(problems(withSchedule('{ cron: "0 2 * * *", timezone: Mars/Olympus }'))).toContain(
      'pipelines.nightly.schedule.timezone: not an IANA time zone',
    );
    expect(problems(withSchedule('{ every: soon }'))).toContain('pipelines.nightly.schedule.every: a duration such as');
  });
});

describe('two writers on one table: validate', () => {
  const twoSources = (shop: string, billing: string) => `
bigquery: { project: p }
sources:
  shop: { type: mysql, url: "\${SHOP_URL}", ${shop} }
  billing: { type: postgres, url: "\${BILLING_URL}", ${billing} }
pipelines:
  nightly: { sources: [shop, billing] }
`;

  test('two sources with one dataset and a table of the same name: both entries named, and the way out', () => {
    expect(problems(twoSources('dataset: raw, tables: [orders, customers]', 'dataset: raw, tables: [invoices, orders]'))).toBe(
      'conf/bqsync.yaml: sources.billing.tables "orders" and sources.shop.tables "orders" both land in BigQuery table raw.orders, ' +
        'so each would overwrite the other; give one of them a destination: (or its source another dataset:)',
    );
  });

  test('two names that naming.case makes one, and a destination: that meets a prefixed name', () => {
    const msg = problems(
      twoSources(
        'dataset: raw, naming: { case: lower, tablePrefix: s_ }, tables: [Orders, orders]',
        'dataset: raw, tables: [{ name: people, destination: s_customers }, { name: customers, destination: x }]',
      ).replace('tables: [Orders, orders]', 'tables: [Orders, orders, customers]'),
    );
    expect(msg).toContain('sources.shop.tables "orders" and sources.shop.tables "Orders" both land in BigQuery table raw.s_orders');
    expect(msg).toContain('sources.billing.tables "people" and sources.shop.tables "customers" both land in BigQuery table raw.s_customers');
  });

  test('the same table name in different datasets, or two pipelines of one source, is fine', () => {
    expect(() => parseConfig(twoSources('tables: [orders]', 'tables: [orders]'), 'f.yaml')).not.toThrow();
    expect(() => parseConfig(base('  hourly:\n    sources: [shop]\n'), 'f.yaml')).not.toThrow();
  });
});

describe('parallelRanges beyond the source concurrency', () => {
  const withRanges = `
bigquery:
  project: p
sources:
  billing:
    type: postgres
    url: \${BILLING_URL}
    concurrency: 1
    defaults: { parallelRanges: 2 }
    tables: [invoices, { name: events, parallelRanges: 4 }]
  shop:
    type: mysql
    url: \${SHOP_URL}
    concurrency: 4
    tables: [{ name: orders, parallelRanges: 4 }, { name: items, parallelRanges: 8 }]
pipelines:
  nightly:
    sources: [billing, shop]
`;

  test('each table or default asking for more ranges than its source allows is named, with what happens and what to do', () => {
    const { config } = parseConfig(withRanges, 'bqsync.yaml');
    expect(parallelRangesWarnings(config)).toEqual([
      "defaults of source billing: parallelRanges 2 is more than the source's concurrency (1), so at most 1 range is read at once; a table without an integer key, which block ranges would split, is then read in one piece; raise sources.billing.concurrency or lower parallelRanges",
      "table billing.events: parallelRanges 4 is more than the source's concurrency (1), so at most 1 range is read at once; a table without an integer key, which block ranges would split, is then read in one piece; raise sources.billing.concurrency or lower parallelRanges",
      "table shop.items: parallelRanges 8 is more than the source's concurrency (4), so at most 4 ranges are read at once; raise sources.shop.concurrency or lower parallelRanges",
    ]);
  });

  test('none when every table fits', () => {
    expect(parallelRangesWarnings(parseConfig(base(), 'bqsync.yaml').config)).toEqual([]);
  });
});
