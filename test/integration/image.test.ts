/**
 * The container image without a Docker engine: scripts/image-steps.sh runs the Dockerfile's
 * build phases on a clean checkout into a directory laid out like the image's /app; a
 * worker started from it, as the image's ENTRYPOINT would, must reach RUNNING, pass the
 * health check and sync a table.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { searchAttributeNames } from '../../common/search-attributes';
import { createSmallTables } from '../helpers/source-tables';
import { bqCount, eventually, mysqlSource, SOURCE_ENV, testConfig, writeConfig } from '../helpers/harness';

const ROOT = path.join(__dirname, '..', '..');
const dockerfile = fs.readFileSync(path.join(ROOT, 'docker', 'Dockerfile'), 'utf8');

/** Each stage's RUN commands, line continuations joined. */
function runLines(): { stage: string; run: string }[] {
  const out: { stage: string; run: string }[] = [];
  let stage = '';
  for (const line of dockerfile.replace(/\\\n\s*/g, ' ').split('\n')) {
    const from = line.match(/^FROM\s+\S+\s+AS\s+(\S+)/i);
    if (from) stage = from[1];
    const run = line.match(/^RUN\s+(.*)$/);
    if (run) out.push({ stage, run: run[1].replace(/\s+/g, ' ').trim() });
  }
  return out;
}

const STEP = /^sh docker\/image-steps\.sh (\w+)$/;

test('the Dockerfile runs its build through docker/image-steps.sh, in the phases scripts/image-steps.sh runs', () => {
  const runs = runLines();
  const phases = runs.filter((r) => STEP.test(r.run)).map((r) => `${r.stage}:${r.run.match(STEP)![1]}`);
  expect(phases).toEqual(['build:deps', 'build:build', 'cli:runtime']);
  // The only other RUN installs the init process; anything else would be a step the script misses.
  const others = runs.filter((r) => !STEP.test(r.run));
  expect(others).toHaveLength(1);
  expect(others[0].run).toMatch(/^apt-get update && apt-get install -y --no-install-recommends tini/);
  const script = fs.readFileSync(path.join(ROOT, 'scripts', 'image-steps.sh'), 'utf8');
  const scripted = [...script.matchAll(/sh docker\/image-steps\.sh (\w+)/g)].map((m) => m[1]);
  expect(scripted).toEqual(['deps', 'build', 'runtime']);
  // The image's shape: glibc base, tini as PID 1 running node, non-root, a health check.
  expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
  expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/client\/cli\.js"\]$/m);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s*CMD \["node", "\/app\/dist\/worker\/healthcheck\.js"\]$/m);
  expect(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^\.env$/m);
});

test('docker/compose.yaml runs the parts of the local stack and a worker from the Dockerfile', () => {
  const compose = parse(fs.readFileSync(path.join(ROOT, 'docker', 'compose.yaml'), 'utf8'), { merge: true });
  expect(Object.keys(compose.services).sort()).toEqual(['bigquery', 'bqsync', 'mysql', 'postgres', 'temporal', 'worker']);
  expect(compose.services.mysql.image).toMatch(/^mysql:8/);
  expect(compose.services.bigquery.image).toMatch(/^ghcr\.io\/goccy\/bigquery-emulator:/);
  // The search attributes bqsync uses (scripts/stack.sh registers the same list, read from common/).
  const attrs = (text: string) => [...text.matchAll(/--search-attribute[= ](\w+=Keyword)/g)].map((m) => m[1]).sort();
  expect(attrs(compose.services.temporal.command.join(' '))).toEqual(searchAttributeNames.map((n) => `${n}=Keyword`).sort());
  expect(compose.services.worker.build).toMatchObject({ context: '..', dockerfile: 'docker/Dockerfile', target: 'worker' });
  expect(compose.services.worker.stop_grace_period).toBe('120s');
  expect(compose.services.worker.environment.BIGQUERY_ENDPOINT).toBe('http://bigquery:9050');
});

describe('a worker from the image contents', () => {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-image-'));
  let worker: ChildProcess | undefined;
  afterAll(() => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  });

  test('is built from a clean checkout: built output and production dependencies only', () => {
    const began = Date.now();
    execFileSync('bash', [path.join(ROOT, 'scripts', 'image-steps.sh'), app], { stdio: 'pipe', timeout: 600_000 });
    console.log(`image steps took ${((Date.now() - began) / 1000).toFixed(0)} s`);
    expect(fs.readdirSync(app).sort()).toEqual(['bqsync.yaml', 'dist', 'docker', 'node_modules', 'package-lock.json', 'package.json']);
    for (const dev of ['typescript', 'jest', 'ts-jest', '@temporalio/testing', '@types/jest']) {
      expect(fs.existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    }
    for (const prod of ['@temporalio/worker', 'mysql2', 'pg', '@google-cloud/bigquery']) {
      expect(fs.existsSync(path.join(app, 'node_modules', prod))).toBe(true);
    }
    expect(fs.existsSync(path.join(app, 'dist', 'worker', 'workflow-bundle.js'))).toBe(true);
    const sources = execFileSync('find', [path.join(app, 'dist'), '-name', '*.ts', '-not', '-name', '*.d.ts']).toString().trim();
    expect(sources).toBe('');
  }, 900_000);

  test('reaches RUNNING, passes the health check, syncs a table, and fails the check once stopped', async () => {
    await createSmallTables(['x_img_1'], 321);
    const config = writeConfig(testConfig('it-image', { shop: mysqlSource('it_image_shop', { tables: ['x_img_1'] }) }, { itimage: { sources: ['shop'] } }));
    const healthFile = path.join(app, 'tmp', 'worker.health');
    // The environment the Dockerfile sets, with the test stack's config.
    const env = { ...process.env, ...SOURCE_ENV, NODE_ENV: 'production', BQSYNC_CONFIG: config, BQSYNC_LOG_FORMAT: 'json', BQSYNC_HEALTH_FILE: healthFile };
    const cli = path.join(app, 'dist', 'client', 'cli.js');
    const child = spawn(process.execPath, [cli, 'worker'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker = child;
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await eventually(async () => out.includes('"state":"RUNNING"'), 60_000, 'the worker to reach RUNNING');
    const healthcheck = path.join(app, 'dist', 'worker', 'healthcheck.js');
    const healthy = spawnSync(process.execPath, [healthcheck], { env, encoding: 'utf8' });
    expect(healthy.stderr).toBe('');
    expect(healthy.status).toBe(0);

    const run = spawnSync(process.execPath, [cli, 'run', 'itimage', '--wait'], { cwd: app, env, encoding: 'utf8', timeout: 300_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/shop\.x_img_1\s+succeeded/);
    expect(await bqCount('it_image_shop', 'x_img_1')).toBe(321);

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopped = spawnSync(process.execPath, [healthcheck], { env, encoding: 'utf8' });
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toContain('no health file');
  }, 600_000);
});
