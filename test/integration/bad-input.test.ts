/**
 * Faults: input an operator or a source schema gets wrong.
 *  (a) config files with a YAML syntax error, an unknown key inside a table entry and a
 *      value of the wrong type (the unknown source-level key is in sync-now.test.ts);
 *  (b) a listed table that does not exist (failures.test.ts covers MariaDB; here both);
 *  (c) real tables and columns, in MariaDB and PostgreSQL, whose names hold a double quote,
 *      a backtick, a semicolon, a space, a dash and Unicode, one named like an SQL injection;
 *  (d) a source where discovery finds nothing: a pattern that matches no table, and an
 *      empty schema.
 *
 * Proves: a bad file stops `validate` and `run` with the file, the line or key and what is
 * wrong; every odd name either lands with its values intact (compared row by row), or its
 * table fails alone, before anything is written, with a message that names the table and
 * the columns and says what to write in the file; the advice works when followed; no name
 * reaches SQL unquoted (x_canary survives a table called `x_inj; DROP TABLE x_canary; --`);
 * a run that would copy nothing fails and says where discovery looked.
 */
import type { RunSummary } from '../../common/payloads';
import { summaryFromFailure } from '../../client/run-failure';
import { quoteMysql } from '../../sources/mysql/errors';
import { quotePostgres } from '../../sources/postgres/errors';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import {
  bigQuery,
  CliResult,
  mysqlConnection,
  mysqlSource,
  postgresClient,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  temporalClient,
  testConfig,
  writeConfig,
} from '../helpers/harness';

const INJECTION = 'x_inj; DROP TABLE x_canary; --';
/** Source names that BigQuery takes as table names, and those it does not. */
const VALID_IN_BIGQUERY = ['x_bad sp', 'x_bad-dash', 'x_ünï'];
const INVALID_IN_BIGQUERY = ['x_bad`bt', 'x_bad;drop'];
/** MariaDB identifiers hold only the Basic Multilingual Plane: its emoji column is a snowman. */
const BAD_COLUMNS = { shop: ['na;me', '"q"', 'b`t', 'émoji_☃'], billing: ['na;me', '"q"', 'b`t', 'émoji_😀'] };
const PLAIN = ['x_canary', INJECTION, 'x_bad"q', ...VALID_IN_BIGQUERY, ...INVALID_IN_BIGQUERY];
const WITH_BAD_COLUMNS = ['x_badcols', 'x_badcols_ok'];
/** Values that would break SQL or JSON if they were spliced anywhere. */
const LABELS = ["'; DROP TABLE x_canary; --", '"quoted"', 'back`tick', 'back\\slash', 'ünïcödé 😀', 'tab\there'];

const tablesOf = (source: 'shop' | 'billing') => [
  { name: INJECTION, destination: 'x_inj' },
  { name: 'x_bad"q', destination: 'x_bad_q' },
  // The advice of x_badcols's message, followed.
  { name: 'x_badcols_ok', columns: { exclude: BAD_COLUMNS[source] } },
  `x_nope_${source}`,
];
// Named one by one: other tests' x_bad_* tables must not join this run.
const DISCOVER = ['x_bad"q', ...VALID_IN_BIGQUERY, ...INVALID_IN_BIGQUERY, 'x_badcols', 'x_badcols_ok'];
const config = testConfig(
  'it-bad-input',
  {
    shop: mysqlSource('it_bad_shop', { discover: { include: DISCOVER }, tables: tablesOf('shop') }),
    billing: postgresSource('it_bad_billing', { discover: { include: DISCOVER }, tables: tablesOf('billing') }),
    nomatch: mysqlSource('it_bad_nomatch', { discover: { include: ['x_nothing_here_*'], exclude: ['tmp_*'] } }),
    emptyschema: postgresSource('it_bad_empty', { schema: 'x_empty', discover: { include: ['*'] } }),
  },
  {
    itbad: { sources: ['shop', 'billing'] },
    itnomatch: { sources: ['nomatch'] },
    itemptyschema: { sources: ['emptyschema'] },
  },
);

let worker: RunningWorker;
let file: string;
let cli: CliResult;
let summary: RunSummary;

async function dropOddTables(): Promise<void> {
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    for (const t of [...PLAIN, ...WITH_BAD_COLUMNS]) {
      await my.query(`DROP TABLE IF EXISTS ${quoteMysql(t)}`);
      await pg.query(`DROP TABLE IF EXISTS ${quotePostgres(t)}`);
    }
    await pg.query('DROP SCHEMA IF EXISTS x_empty');
  } finally {
    await my.end();
    await pg.end();
  }
}

async function createOddTables(): Promise<void> {
  await dropOddTables();
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    for (const t of PLAIN) {
      await my.query(`CREATE TABLE ${quoteMysql(t)} (id INT PRIMARY KEY, label VARCHAR(40)) CHARACTER SET utf8mb4`);
      await pg.query(`CREATE TABLE ${quotePostgres(t)} (id int PRIMARY KEY, label text)`);
    }
    for (const t of WITH_BAD_COLUMNS) {
      const cols = BAD_COLUMNS.shop.map((c) => `${quoteMysql(c)} VARCHAR(40)`).join(', ');
      await my.query(`CREATE TABLE ${quoteMysql(t)} (id INT PRIMARY KEY, label VARCHAR(40), ${cols}) CHARACTER SET utf8mb4`);
      await pg.query(`CREATE TABLE ${quotePostgres(t)} (id int PRIMARY KEY, label text, ${BAD_COLUMNS.billing.map((c) => `${quotePostgres(c)} text`).join(', ')})`);
    }
    // Values go in as parameters, never as SQL text.
    for (const t of [...PLAIN, ...WITH_BAD_COLUMNS]) {
      for (const [i, label] of LABELS.entries()) {
        const extra = WITH_BAD_COLUMNS.includes(t) ? BAD_COLUMNS.shop.map(() => label) : [];
        const n = 2 + extra.length;
        await my.query(`INSERT INTO ${quoteMysql(t)} VALUES (${Array(n).fill('?').join(', ')})`, [i + 1, label, ...extra]);
        await pg.query(`INSERT INTO ${quotePostgres(t)} VALUES (${Array.from({ length: n }, (_, k) => `$${k + 1}`).join(', ')})`, [
          i + 1,
          label,
          ...extra,
        ]);
      }
    }
    await pg.query('CREATE SCHEMA x_empty');
  } finally {
    await my.end();
    await pg.end();
  }
}

beforeAll(async () => {
  await createOddTables();
  file = writeConfig(config);
  worker = await startWorker(file);
  cli = await runCli(['--config', file, 'run', 'itbad', '--wait']);
  const client = await temporalClient();
  try {
    summary = summaryFromFailure(await client.workflow.getHandle('bqsync-itbad').result().then(() => undefined, (e: unknown) => e))!;
  } finally {
    await client.connection.close();
  }
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await dropOddTables();
});

describe('(a) a malformed config file', () => {
  const bad = (sourceBody: string) =>
    `bigquery: { project: p }\nsources:\n  shop:\n    type: mysql\n    url: \${U}\n${sourceBody}pipelines:\n  p: { sources: [shop] }\n`;
  const cases: [what: string, text: string, message: string][] = [
    ['a YAML syntax error', bad('    tables: [a]\n   owner: x\n'), 'YAML syntax error at line 7, column 1: All mapping items must start at the same column'],
    ['an unknown key in a table entry', bad('    tables:\n      - { name: a, colour: blue }\n'), 'unknown key "sources.shop.tables.0.colour"; remove it or check its spelling'],
    ['a value of the wrong type', bad('    concurrency: four\n    tables: [a]\n'), 'sources.shop.concurrency: Invalid input: expected number, received string'],
    ['a mode that does not exist', bad('    tables:\n      - { name: a, mode: apend }\n'), 'sources.shop.tables.0.mode: Invalid option: expected one of "replace"|"append"|"merge"'],
  ];
  test.each(cases)('%s: validate and run exit 1, naming the file and the line or key', async (_what, text, message) => {
    const f = writeConfig(text);
    for (const verb of [['validate'], ['run', 'p']]) {
      const res = await runCli(['--config', f, ...verb]);
      expect({ verb: verb[0], code: res.code }).toEqual({ verb: verb[0], code: 1 });
      expect(res.stderr).toContain(`error: ${f}: `);
      expect(res.stderr).toContain(message);
      expect(res.stdout).toBe('');
    }
  });
});

describe('(b, c) unknown tables and odd names at the source', () => {
  const result = (key: string) => {
    const r = summary.results.find((x) => x.key === key);
    if (!r) throw new Error(`${key} is not in the run: ${summary.results.map((x) => x.key).join(', ')}`);
    return r;
  };

  test('each bad table fails alone, once, with a message that names it and says what to write', () => {
    for (const source of ['shop', 'billing'] as const) {
      const cols = BAD_COLUMNS[source].map((c) => JSON.stringify(c)).join(', ');
      expect(result(`${source}.x_nope_${source}`)).toMatchObject({ status: 'failed', errorType: 'SourceTableMissing', runs: 1 });
      expect(result(`${source}.x_nope_${source}`).error).toBe(
        `${source}.x_nope_${source}: the table does not exist at the source (dropped or renamed since it was listed?); ` +
          `it_bad_${source}.x_nope_${source} in BigQuery was left as it was. Remove it from sources.${source}.tables in ${file}, or restore it at the source`,
      );
      for (const t of INVALID_IN_BIGQUERY) {
        expect(result(`${source}.${t}`)).toMatchObject({ status: 'failed', errorType: 'SchemaError', runs: 1 });
        expect(result(`${source}.${t}`).error).toBe(
          `${source}.${t}: ${JSON.stringify(t)} is not a valid BigQuery table name (letters, marks, digits, underscores, dashes and spaces); ` +
            `give it one in ${file}: list it under sources.${source}.tables as { name: ${JSON.stringify(t)}, destination: <valid name> }, ` +
            `or leave it out with sources.${source}.discover.exclude`,
        );
      }
      expect(result(`${source}.x_badcols`)).toMatchObject({ status: 'failed', errorType: 'SchemaError', runs: 1 });
      expect(result(`${source}.x_badcols`).error).toBe(
        `${source}.x_badcols: columns ${cols} cannot be BigQuery column names ` +
          '(letters, digits and underscores, not starting with a digit); rename them at the source, ' +
          `or exclude them for this table in ${file}: columns: { exclude: [${cols}] }`,
      );
    }
    const failed = summary.results.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(8);
    // Never an SQL error from either database or BigQuery.
    for (const r of failed) expect(r.error).not.toMatch(/syntax|SQL|ER_|42601/);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('pipeline itbad: 12 succeeded, 8 failed, 0 skipped');
    expect(cli.stdout).toMatch(/billing\.x_badcols\s+failed.*SchemaError: billing\.x_badcols: columns "na;me"/);
  });

  test('the odd names BigQuery accepts land with every value intact', async () => {
    const landed: [source: string, destination: string][] = [
      [INJECTION, 'x_inj'],
      ['x_bad"q', 'x_bad_q'],
      ['x_badcols_ok', 'x_badcols_ok'],
      ...VALID_IN_BIGQUERY.map((t): [string, string] => [t, t]),
    ];
    for (const [table, destination] of landed) {
      for (const source of ['shop', 'billing']) expect(result(`${source}.${table}`)).toMatchObject({ status: 'succeeded', runs: 1 });
      expect(await expectSameRowsAsMysql(quoteMysql(table), 'it_bad_shop', ['id', 'label'], { destination })).toBe(LABELS.length);
      expect(await expectSameRowsAsPostgres(quotePostgres(table), 'it_bad_billing', ['id', 'label'], { destination })).toBe(LABELS.length);
    }
  });

  test('nothing half-written: each dataset holds exactly the tables that succeeded, no staging table', async () => {
    const expected = ['x_bad sp', 'x_bad-dash', 'x_bad_q', 'x_badcols_ok', 'x_inj', 'x_ünï'].sort();
    for (const dataset of ['it_bad_shop', 'it_bad_billing']) {
      const [tables] = await bigQuery().dataset(dataset).getTables();
      expect(tables.map((t) => t.id).sort()).toEqual(expected);
    }
  });

  test('no name reached SQL unquoted: x_canary is intact in both databases', async () => {
    const my = await mysqlConnection();
    const pg = await postgresClient();
    try {
      const [rows] = await my.query('SELECT COUNT(*) AS n FROM x_canary');
      expect(Number((rows as { n: number }[])[0].n)).toBe(LABELS.length);
      expect(Number((await pg.query('SELECT COUNT(*) AS n FROM x_canary')).rows[0].n)).toBe(LABELS.length);
    } finally {
      await my.end();
      await pg.end();
    }
  });
});

describe('(d) a source where discovery finds nothing', () => {
  test('a pattern that matches no table: the run fails at planning and says where it looked', async () => {
    const run = await runCli(['--config', file, 'run', 'itnomatch', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^run failed: ${reEscape(file)}: sources\\.nomatch: discovery found no table to sync in the database of its URL ` +
          '\\(which holds \\d+ base table\\(s\\), e\\.g\\. "[^"]+"(, "[^"]+")*\\) with include: \\["x_nothing_here_\\*"\\], exclude: \\["tmp_\\*"\\]\\. ' +
          "Check sources\\.nomatch\\.discover and sources\\.nomatch\\.schema, and that the source's user may read the tables; " +
          'or remove the source from the pipeline\\n$',
      ),
    );
    // The same words before any run: plan reads the source the same way.
    const plan = await runCli(['--config', file, 'plan', 'itnomatch']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('sources.nomatch: discovery found no table to sync in the database of its URL');
    // Planning is not retried: the config has to change.
    const client = await temporalClient();
    try {
      const history = await client.workflow.getHandle('bqsync-itnomatch').fetchHistory();
      expect(history.events!.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(1);
      expect(history.events!.filter((e) => e.workflowExecutionFailedEventAttributes)).toHaveLength(1);
    } finally {
      await client.connection.close();
    }
  });

  test('an empty schema: the run fails and names the schema', async () => {
    const run = await runCli(['--config', file, 'run', 'itemptyschema', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `run failed: ${file}: sources.emptyschema: discovery found no table to sync in schema "x_empty" ` +
        '(which holds no base tables this user can see) with include: ["*"]. Check sources.emptyschema.discover and ' +
        "sources.emptyschema.schema, and that the source's user may read the tables; or remove the source from the pipeline\n",
    );
  });
});

function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
