import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBigQuery, ensureDataset } from '../../bigquery/client';
import { countRows } from '../../bigquery/tables';
import { awaitJob, submitLoad } from '../../bigquery/jobs';
import { redact } from '../../common/redact';
import type { SourceConnection, SourceFinding } from '../../sources/driver';
import { openSource } from '../../sources/open-source';
import { discoveredTables } from '../../config/discovery';
import { ConfigError, LoadedConfig, resolveSourceEndpoint, tableName } from '../../config/load';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { searchAttributeNames } from '../../common/search-attributes';

type Status = 'ok' | 'info' | 'warn' | 'FAIL';

/** Prints one line per check; counts the failures. */
class Report {
  failures = 0;
  section(title: string): void {
    console.log(title);
  }
  line(status: Status, text: string): void {
    if (status === 'FAIL') this.failures++;
    console.log(`  ${status.padEnd(4)} ${text}`);
  }
}

const message = (err: unknown) => {
  const e = err as Error & { cause?: Error };
  const text = e instanceof Error ? e.message : String(err);
  return e?.cause?.message && !text.includes(e.cause.message) ? `${text}: ${e.cause.message}` : text;
};

/**
 * Checks what a sync needs, with the config and environment the workers get: Temporal
 * (connection, namespace, search attributes, a worker on the queue), each source (connect,
 * list tables, SELECT on every table a run would read; TLS, privileges beyond reading,
 * settings that cut long reads, replica lag) and BigQuery (list and create
 * datasets, a tiny load job, a query). Says what is missing; exits 1 when something is.
 */
export async function doctorCommand(loaded: LoadedConfig): Promise<number> {
  const report = new Report();
  await checkTemporal(loaded, report);
  for (const sourceName of Object.keys(loaded.config.sources)) await checkSource(loaded, sourceName, report);
  await checkBigQuery(loaded, report);
  console.log(report.failures === 0 ? 'all checks passed' : `${report.failures} check(s) failed`);
  return report.failures === 0 ? 0 : 1;
}

const CREDENTIALS_HINT = 'check the API key (temporal.apiKey) or the client certificate (temporal.tls)';

/** gRPC UNAUTHENTICATED (16) or PERMISSION_DENIED (7): the server is there but refuses who we are. */
function refusedCredentials(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; message?: string } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 16 || e.code === 7) return true;
    if (/UNAUTHENTICATED|PERMISSION_DENIED|unauthori[sz]ed/i.test(e.message ?? '')) return true;
  }
  return false;
}

async function checkTemporal(loaded: LoadedConfig, report: Report): Promise<void> {
  const { temporal: t } = loaded.config;
  report.section(`Temporal ${t.address}, namespace ${t.namespace}, task queue ${t.taskQueue}`);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(loaded.config, loaded.file), connectTimeout: '5s' });
  } catch (err) {
    const hint =
      err instanceof ConfigError
        ? ''
        : refusedCredentials(err)
          ? `; ${CREDENTIALS_HINT}`
          : `; check temporal.address in ${loaded.file}, that the server runs and that this network may reach it`;
    report.line('FAIL', `cannot connect to ${t.address}: ${message(err)}${hint}`);
    return;
  }
  try {
    report.line('ok', 'connected');
    try {
      await connection.workflowService.describeNamespace({ namespace: t.namespace });
      report.line('ok', `namespace ${t.namespace} exists`);
    } catch (err) {
      const hint = refusedCredentials(err) ? CREDENTIALS_HINT : `create it or fix temporal.namespace in ${loaded.file}`;
      report.line('FAIL', `namespace ${t.namespace}: ${message(err)}; ${hint}`);
      return;
    }
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: t.namespace });
      const missing = searchAttributeNames.filter((n) => !(customAttributes && n in customAttributes));
      if (missing.length === 0) report.line('ok', 'search attributes registered');
      else report.line('warn', `search attributes missing: ${missing.join(', ')} (bqsync run adds them on a self-hosted server; on Temporal Cloud add them as Keyword in the namespace settings)`);
    } catch (err) {
      report.line('warn', `cannot list search attributes (${message(err)}); on Temporal Cloud check them in the namespace settings`);
    }
    const client = new Client({ connection, namespace: t.namespace });
    try {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: t.namespace,
        taskQueue: { name: t.taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers?.length) report.line('ok', `${pollers.length} worker(s) poll task queue ${t.taskQueue}`);
      else report.line('warn', `no worker polls task queue ${t.taskQueue}: runs wait until one starts (bqsync worker)`);
    } catch (err) {
      report.line('warn', `cannot describe task queue ${t.taskQueue}: ${message(err)}`);
    }
  } finally {
    await connection.close();
  }
}

/** The tables a whole-pipeline run would read from the source: listed plus discovered (as planRun picks them). */
function tablesToRead(loaded: LoadedConfig, sourceName: string, existing: string[]): string[] {
  const source = loaded.config.sources[sourceName];
  const names = new Set((source.tables ?? []).map(tableName));
  if (source.discover) {
    for (const t of discoveredTables(existing, source.discover)) names.add(t);
  }
  return [...names];
}

async function checkSource(loaded: LoadedConfig, sourceName: string, report: Report): Promise<void> {
  const source = loaded.config.sources[sourceName];
  // The replica when replica.useFor names doctor, else the source's url.
  const onReplica = Boolean(source.replica?.useFor.includes('doctor'));
  report.section(`Source ${sourceName} (${source.type}${source.schema ? `, schema ${source.schema}` : ''}${onReplica ? ', its replica' : ''})`);
  let url: string;
  try {
    url = resolveSourceEndpoint(sourceName, source, 'doctor', loaded.file).url;
  } catch (err) {
    report.line('FAIL', message(err));
    return;
  }
  let reader: SourceConnection;
  try {
    reader = await openSource(loaded, sourceName, 'doctor');
  } catch (err) {
    report.line('FAIL', redact(message(err), url));
    return;
  }
  try {
    report.line('ok', 'connected');
    await checkTables(loaded, sourceName, reader, report, url);
    await checkSession(reader, report, url);
  } finally {
    await reader.close();
  }
}

/** The listed tables exist, and the user may SELECT from every table a run would read. */
async function checkTables(loaded: LoadedConfig, sourceName: string, reader: SourceConnection, report: Report, url: string): Promise<void> {
  const source = loaded.config.sources[sourceName];
  let existing: string[];
  try {
    existing = await reader.listTables();
  } catch (err) {
    report.line('FAIL', redact(message(err), url));
    return;
  }
  report.line(existing.length ? 'ok' : 'warn', `${existing.length} base tables listed`);
  const present = new Set(existing);
  const missing = (source.tables ?? []).map(tableName).filter((t) => !present.has(t));
  if (missing.length) {
    report.line(
      'FAIL',
      `listed in ${loaded.file} but not found: ${missing.map((t) => `${sourceName}.${t}`).join(', ')}; ` +
        `fix sources.${sourceName}.tables or the schema, or GRANT SELECT on them (MySQL hides tables the user has no privilege on)`,
    );
  }
  const toRead = tablesToRead(loaded, sourceName, existing).filter((t) => present.has(t));
  try {
    const denied = await reader.tablesWithoutSelect(toRead);
    if (denied.length === 0) report.line('ok', `SELECT allowed on all ${toRead.length} tables to sync`);
    else {
      const shown = denied.slice(0, 10).map((t) => `${sourceName}.${t}`).join(', ');
      report.line('FAIL', `no SELECT privilege on ${denied.length} table(s): ${shown}${denied.length > 10 ? ', ...' : ''}; GRANT SELECT on them to the user of sources.${sourceName}.url`);
    }
  } catch (err) {
    report.line('FAIL', `cannot check SELECT privileges: ${redact(message(err), url)}`);
  }
}

const FINDING_STATUS: Record<SourceFinding['status'], Status> = { ok: 'ok', info: 'info', warn: 'warn', fail: 'FAIL' };

/**
 * What the engine tells of a connection (the one the URL gives; a replica's the same way):
 * TLS in use and verified, privileges beyond reading, settings that cut long reads, replica lag.
 */
async function checkSession(reader: SourceConnection, report: Report, url: string): Promise<void> {
  let findings: SourceFinding[];
  try {
    findings = await reader.checkHealth();
  } catch (err) {
    report.line('warn', `cannot check TLS, privileges and settings: ${redact(message(err), url)}`);
    return;
  }
  for (const f of findings) report.line(FINDING_STATUS[f.status], `${f.topic}: ${f.text}`);
}

async function checkBigQuery(loaded: LoadedConfig, report: Report): Promise<void> {
  const { bigquery } = loaded.config;
  report.section(`BigQuery project ${bigquery.project}, location ${bigquery.location}${bigquery.endpoint ? `, endpoint ${bigquery.endpoint}` : ''}`);
  const bq = createBigQuery(bigquery);
  const iamHint = 'the service account needs roles/bigquery.dataEditor (datasets, tables, loads) and roles/bigquery.jobUser (jobs) on the project';
  let existing: Set<string>;
  try {
    const [datasets] = await bq.getDatasets();
    existing = new Set(datasets.map((d) => d.id ?? ''));
    report.line('ok', `datasets listed (${existing.size})`);
  } catch (err) {
    report.line('FAIL', `cannot list datasets: ${message(err)}; check GOOGLE_APPLICATION_CREDENTIALS and that ${iamHint}`);
    return;
  }
  const datasets = [...new Set(Object.entries(loaded.config.sources).map(([name, s]) => s.dataset ?? name))];
  for (const dataset of datasets) {
    try {
      const had = existing.has(dataset);
      await ensureDataset(bq, dataset, bigquery.location);
      report.line('ok', had ? `dataset ${dataset} exists` : `dataset ${dataset} created`);
    } catch (err) {
      report.line('FAIL', `cannot create dataset ${dataset}: ${message(err)}; ${iamHint}`);
      return;
    }
  }
  if (datasets.length === 0) return;
  // A one-row load job and a query, the two jobs every table sync runs.
  const dataset = datasets[0];
  const table = '_bqsync_doctor';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bqsync-doctor-'));
  try {
    const file = path.join(dir, 'row.json');
    await fs.writeFile(file, JSON.stringify({ checked_at: new Date().toISOString() }) + '\n');
    const jobId = `bqsync_doctor_${Date.now()}`;
    await submitLoad(bq, {
      dataset,
      table,
      file,
      schema: [{ name: 'checked_at', type: 'TIMESTAMP', mode: 'NULLABLE' }],
      jobId,
      writeDisposition: 'WRITE_TRUNCATE',
    });
    await awaitJob(bq, jobId, () => undefined);
    report.line('ok', `load job into ${dataset}.${table}`);
    const n = await countRows(bq, bigquery.project, dataset, table);
    if (n === 1) report.line('ok', `query job (counted ${n} row)`);
    else report.line('FAIL', `query job counted ${n} rows in ${dataset}.${table}, expected 1`);
  } catch (err) {
    report.line('FAIL', `load or query job in ${dataset}: ${message(err)}; ${iamHint}`);
  } finally {
    await bq.dataset(dataset).table(table).delete().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
