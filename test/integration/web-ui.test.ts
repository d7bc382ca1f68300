import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, Browser } from 'playwright-core';
import { TEMPORAL_UI_URL } from '../helpers/env';
import { mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';

const ROOT = path.join(__dirname, '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const config = testConfig(
  'it-web-ui',
  { shop: mysqlSource('it_ui_shop', { tables: ['x_ui_ok', 'x_ui_gone'] }) },
  { itui: { sources: ['shop'] } },
);

/** Debian's chromium, installed by the project's script when missing; no browser means a failed test, not a skipped one. */
function chromiumPath(): string {
  try {
    return execFileSync('bash', [path.join(ROOT, 'scripts/install-chromium.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
  } catch (err) {
    throw new Error(`Chromium is needed to drive the Temporal Web UI and could not be installed (scripts/install-chromium.sh): ${(err as Error).message}`);
  }
}

let worker: RunningWorker;
let browser: Browser;

beforeAll(async () => {
  const executablePath = chromiumPath();
  browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  await createSmallTables(['x_ui_ok'], 3);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_ui_gone');
  await my.end();
  const file = writeConfig(config);
  worker = await startWorker(file);
  expect((await runCli(['--config', file, 'run', 'itui', '--wait'])).code).toBe(1);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

test('the Web UI finds the failed table by search attributes and shows its operator message', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const query = `BqsyncOutcome="failed" AND BqsyncTable="shop.x_ui_gone"`;
  await page.goto(`${TEMPORAL_UI_URL}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  // The table sync's readable ID, with the run's date, is the link to open.
  const link = page.getByRole('link', { name: /^bqsync-itui\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.shop\.x_ui_gone$/ });
  await link.first().waitFor({ timeout: 30_000 });
  expect(await page.getByRole('link', { name: /shop\.x_ui_ok$/ }).count()).toBe(0);
  await link.first().click();

  const message = 'shop.x_ui_gone: the table does not exist at the source (dropped or renamed since it was listed?)';
  await page.getByText('Workflow Execution Failed').first().waitFor({ timeout: 30_000 });
  const body = await page.locator('body').innerText();
  expect(body).toContain('tableSync');
  expect(body).toContain('Failed');
  expect(body).toContain(message);
  expect(body).toContain('SourceTableMissing');
  // The activity's summary names what the step does.
  expect(body).toContain('extract shop.x_ui_gone, load it_ui_shop.x_ui_gone, verify row count');

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const shot = path.join(ARTIFACTS, 'web-ui-failed-table.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`Web UI screenshot: ${shot}`);
  expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
});
