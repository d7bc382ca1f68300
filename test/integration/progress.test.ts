import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { estimateRows } from '../../client/row-estimates';
import { TEST_BIG_ROWS } from '../helpers/env';
import { mysqlConnection, mysqlSource, postgresClient, postgresSource, RunningWorker, SOURCE_ENV, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';

const CLI = path.join(__dirname, '..', '..', 'dist', 'client', 'cli.js');

const config = testConfig(
  'it-progress',
  {
    shop: mysqlSource('it_pr_shop', { tables: ['events_big', 'x_pr_est'] }),
    billing: postgresSource('it_pr_billing', { tables: ['x_pr_est'] }),
    elsewhere: mysqlSource('it_pr_else', { url: '${TEST_PR_UNSET_URL}', tables: ['t'] }),
  },
  { itprogress: { sources: ['shop', 'billing'] }, itelse: { sources: ['elsewhere'] } },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_pr_est'], 5000);
  const my = await mysqlConnection();
  await my.query('ANALYZE TABLE x_pr_est, events_big');
  await my.end();
  const pg = await postgresClient();
  await pg.query('ANALYZE x_pr_est');
  await pg.end();
  file = writeConfig(config);
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
});

test('row estimates come from the sources\' catalogs, and a source out of reach gives none', async () => {
  Object.assign(process.env, SOURCE_ENV);
  const estimates = await estimateRows(loadConfig(file), ['shop.x_pr_est', 'billing.x_pr_est', 'shop.events_big', 'elsewhere.t']);
  expect(estimates.get('billing.x_pr_est')).toBe(5000);
  // InnoDB's count is a sample: close, not exact.
  expect(estimates.get('shop.x_pr_est')).toBeGreaterThan(2500);
  expect(estimates.get('shop.x_pr_est')).toBeLessThan(10000);
  expect(estimates.get('shop.events_big')).toBeGreaterThan(TEST_BIG_ROWS / 2);
  expect(estimates.has('elsewhere.t')).toBe(false);
});

test('on a terminal, sync --wait draws a bar per table with rows, rows/s and ETA', async () => {
  // `script` gives the CLI a real pseudo-terminal, as an operator's shell would.
  const command = `stty cols 160; ${process.execPath} ${CLI} --config ${file} sync shop.events_big shop.x_pr_est --wait`;
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...SOURCE_ENV } });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('exit', (code) => resolve({ code, text }));
  });
  expect(out.code).toBe(0);
  const plain = out.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  expect(plain).toMatch(/shop\.events_big\s+\|[█░]+\| (running|succeeded)\s+[\d,]+ rows [\d,-]+ rows\/s ETA (\d+s|-)/);
  expect(plain).toMatch(new RegExp(`shop\\.events_big\\s+\\|█+\\| succeeded\\s+${TEST_BIG_ROWS.toLocaleString('en-US')} rows [\\d,]+ rows/s`));
  expect(plain).toMatch(/shop\.x_pr_est\s+\|█+\| succeeded\s+5,000 rows/);
  expect(plain).toMatch(/shop\.events_big\s+succeeded\s+50,000\s+50,000/);
});
