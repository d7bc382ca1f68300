/**
 * Pure parts of the worker's production settings: the Temporal connection from config and
 * environment, secret redaction in logs, the JSON log line, the health file and the GCP key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../config/load';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { materializeGcpCredentials } from '../../client/gcp-credentials';
import { jsonLine, makeRedactor } from '../../worker/logging';
import { healthProblem, writeHealthFile } from '../../worker/health';
import { parseByteSize } from '../../worker/byte-size';
import { activitySlotsWarning } from '../../worker/activity-slots';
import { pipelineOfWorkflowId } from '../../common/workflow-ids';

const base = (temporal: string) => `
temporal:
${temporal}
bigquery: { project: p }
sources:
  shop: { type: mysql, url: "\${SHOP_URL}", tables: [t] }
pipelines:
  nightly: { sources: [shop] }
`;

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('Temporal connection settings', () => {
  test('address and namespace from the environment; an API key turns TLS on', () => {
    const text = base('  address: ${TEMPORAL_ADDRESS}\n  namespace: ${TEMPORAL_NAMESPACE}\n  apiKey: ${TEMPORAL_API_KEY}');
    const opts = withEnv({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'key-123' }, () => {
      const { config } = parseConfig(text, 'bqsync.yaml');
      // The key stays a reference in the loaded config: it is read only when connecting.
      expect(config.temporal.apiKey).toBe('${TEMPORAL_API_KEY}');
      expect(config.temporal.namespace).toBe('ns.acct');
      return temporalConnectionOptions(config, 'bqsync.yaml');
    });
    expect(opts).toEqual({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123', tls: true });
  });

  test('an empty API key (${TEMPORAL_API_KEY:-}) means a plain connection, for local use', () => {
    const { config } = parseConfig(base('  apiKey: ${TEMPORAL_API_KEY:-}'), 'f.yaml');
    expect(withEnv({ TEMPORAL_API_KEY: undefined }, () => temporalConnectionOptions(config))).toEqual({ address: '127.0.0.1:7233' });
  });

  test('an unset API key variable is named', () => {
    const { config } = parseConfig(base('  apiKey: ${TEMPORAL_API_KEY}'), 'f.yaml');
    expect(() => withEnv({ TEMPORAL_API_KEY: undefined }, () => temporalConnectionOptions(config, 'f.yaml'))).toThrow(
      'f.yaml: temporal.apiKey needs the environment variable TEMPORAL_API_KEY, which is not set',
    );
  });

  test('a literal API key or TLS key in the file is refused', () => {
    expect(() => parseConfig(base('  apiKey: abc123'), 'f.yaml')).toThrow(/temporal\.apiKey is written in the file; it is a secret: write apiKey: \$\{TEMPORAL_API_KEY\}/);
    expect(() => parseConfig(base('  tls: { cert: "C", key: "K" }'), 'f.yaml')).toThrow(/temporal\.tls\.key is written in the file/);
  });

  test('mTLS from PEM contents in the environment (escaped newlines restored) or from files', () => {
    const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
    const { config } = withEnv({ TEMPORAL_TLS_CERT: pem('CERTIFICATE') }, () =>
      parseConfig(base('  tls: { cert: "${TEMPORAL_TLS_CERT}", key: "${TEMPORAL_TLS_KEY}", serverName: temporal.internal }'), 'f.yaml'),
    );
    const opts = withEnv({ TEMPORAL_TLS_KEY: pem('PRIVATE KEY').replace(/\n/g, '\\n') }, () => temporalConnectionOptions(config));
    const tls = opts.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverNameOverride: string };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe(pem('CERTIFICATE'));
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe(pem('PRIVATE KEY'));
    expect(tls.serverNameOverride).toBe('temporal.internal');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-tls-'));
    fs.writeFileSync(path.join(dir, 'c.pem'), 'CERT');
    fs.writeFileSync(path.join(dir, 'k.pem'), 'KEY');
    const fromFiles = parseConfig(base(`  tls: { certFile: ${dir}/c.pem, keyFile: ${dir}/k.pem }`), 'f.yaml').config;
    const t2 = temporalConnectionOptions(fromFiles).tls as { clientCertPair: { crt: Buffer; key: Buffer } };
    expect(Buffer.from(t2.clientCertPair.key).toString()).toBe('KEY');
    const missing = parseConfig(base(`  tls: { certFile: ${dir}/c.pem, keyFile: ${dir}/nope.pem }`), 'f.yaml').config;
    expect(() => temporalConnectionOptions(missing, 'f.yaml')).toThrow(`f.yaml: temporal.tls.keyFile: cannot read ${dir}/nope.pem (ENOENT)`);
    const half = parseConfig(base(`  tls: { certFile: ${dir}/c.pem }`), 'f.yaml').config;
    expect(() => temporalConnectionOptions(half)).toThrow(ConfigError);
  });
});

describe('log redaction and format', () => {
  const loaded = parseConfig(base('  apiKey: ${TEMPORAL_API_KEY}'), 'f.yaml');

  test('the values behind secret config keys, and their passwords, never reach a log line', () => {
    const redact = makeRedactor(loaded, { SHOP_URL: 'mysql://app:s3cr%40t-pw@db:3306/shop', TEMPORAL_API_KEY: 'tk-abcdef' });
    expect(redact('connect mysql://app:s3cr%40t-pw@db:3306/shop failed')).toBe('connect <redacted> failed');
    expect(redact('password s3cr@t-pw was rejected')).toBe('password <redacted> was rejected');
    expect(redact('Bearer tk-abcdef')).toBe('Bearer <redacted>');
    // Any user:password@ in a URL, even one the config does not know.
    expect(redact('postgres://u:other@h/db')).toBe('postgres://u:<redacted>@h/db');
    expect(redact('postgres://u@h/db')).toBe('postgres://u@h/db');
  });

  test('a JSON line: time, level, message, context; errors as objects; no task token', () => {
    const line = jsonLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_700_000_000_123_000_000n,
      meta: { workflowId: 'bqsync-nightly', taskToken: 'AAAA', error: new Error('boom'), big: 10n },
    });
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ time: '2023-11-14T22:13:20.123Z', level: 'warn', message: 'Activity failed', workflowId: 'bqsync-nightly', big: '10' });
    expect(parsed.error).toMatchObject({ name: 'Error', message: 'boom' });
    expect(parsed.taskToken).toBeUndefined();
    expect(line).not.toContain('\n');
  });

  test('the pipeline of a workflow ID', () => {
    expect(pipelineOfWorkflowId('bqsync-nightly')).toBe('nightly');
    expect(pipelineOfWorkflowId('bqsync-nightly.2026-11-25T02:00:00Z.shop.orders')).toBe('nightly');
    expect(pipelineOfWorkflowId('other-nightly')).toBeUndefined();
  });
});

describe('health file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-health-'));
  const file = path.join(dir, 'worker.health');
  test('fresh and RUNNING is healthy; stale, stopping or missing is not, with the reason', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    fs.writeFileSync(file, JSON.stringify({ state: 'RUNNING', pid: 1, time: '2026-11-25T09:59:30Z' }));
    expect(healthProblem(file, 35_000, now)).toBeUndefined();
    expect(healthProblem(file, 20_000, now)).toBe(`health file ${file} is 30 s old (limit 20 s): the worker is stuck or dead`);
    fs.writeFileSync(file, JSON.stringify({ state: 'DRAINING', pid: 1, time: '2026-11-25T09:59:59Z' }));
    expect(healthProblem(file, 35_000, now)).toBe('worker state is DRAINING, not RUNNING');
    expect(healthProblem(path.join(dir, 'none'), 35_000, now)).toMatch(/^no health file at .*none \(ENOENT\)/);
  });
});

describe('GCP key from Secrets Manager', () => {
  test('written to a private file that GOOGLE_APPLICATION_CREDENTIALS names, and removed from the environment', () => {
    const env: NodeJS.ProcessEnv = { GOOGLE_APPLICATION_CREDENTIALS_JSON: '{"type":"service_account","project_id":"p"}' };
    const file = materializeGcpCredentials(env)!;
    expect(env.GOOGLE_APPLICATION_CREDENTIALS).toBe(file);
    expect(env.GOOGLE_APPLICATION_CREDENTIALS_JSON).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).project_id).toBe('p');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(materializeGcpCredentials({ GOOGLE_APPLICATION_CREDENTIALS_JSON: '{}', GOOGLE_APPLICATION_CREDENTIALS: '/k.json' })).toBeUndefined();
    expect(() => materializeGcpCredentials({ GOOGLE_APPLICATION_CREDENTIALS_JSON: 'not json' })).toThrow(/is not JSON/);
  });
});

describe('full disks: worker settings and the health file', () => {
  test('the staging budget is read as bytes or with a unit; a wrong one is named', () => {
    expect(parseByteSize('5000000000', 'BQSYNC_STAGING_BUDGET_BYTES')).toBe(5_000_000_000);
    expect(parseByteSize('15GiB', 'BQSYNC_STAGING_BUDGET_BYTES')).toBe(15 * 2 ** 30);
    expect(parseByteSize('1.5 GB', 'BQSYNC_STAGING_BUDGET_BYTES')).toBe(1_500_000_000);
    expect(() => parseByteSize('lots', 'BQSYNC_STAGING_BUDGET_BYTES')).toThrow(
      'BQSYNC_STAGING_BUDGET_BYTES "lots" is not a size: write bytes (5000000000) or a number with KB, MB, GB, TB, KiB, MiB, GiB or TiB',
    );
  });

  test('a health file that cannot be written is reported once and does not end the process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-health-'));
    const file = path.join(dir, 'worker.health');
    // The temporary file's name taken by a directory: every write fails, as on a full disk.
    fs.mkdirSync(`${file}.tmp`);
    const warnings: string[] = [];
    let state = 'RUNNING';
    const stop = writeHealthFile({ getState: () => state as never }, file, (m) => warnings.push(m), 50);
    state = 'DRAINING';
    await new Promise((r) => setTimeout(r, 2_300)); // two ticks of the 1 s timer
    expect(warnings).toEqual([`the health file ${file} could not be written (EISDIR); the worker goes on, the health check will see the file age`]);
    fs.rmdirSync(`${file}.tmp`);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(warnings[1]).toBe(`the health file ${file} is written again`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).state).toBe('DRAINING');
    stop();
  });
});

describe('activity slots', () => {
  test('one slot is warned of, with why and what to do; the default and two or more are not', () => {
    expect(activitySlotsWarning(1)).toMatch(/^--max-activities 1: a table read in block ranges .* would wait forever; give it 2 or more, or run other workers beside it$/);
    for (const n of [undefined, 2, 100]) expect(activitySlotsWarning(n)).toBeUndefined();
  });
});
