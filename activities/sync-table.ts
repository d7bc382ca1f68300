import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { TableSyncOutcome, TableTask } from '../workflows/types';
import { countRows, createBigQuery, ensureDataset, loadReplacing } from './bigquery';
import { FailureType, schemaFailure } from './errors';
import { openSource } from './open-source';
import { RowEncoder } from './row-encoder';
import { writeStagingFile } from './staging-file';
import { ColumnMapping, isValidBigQueryColumnName, isValidBigQueryTableName } from './type-mapping';

/**
 * Syncs one table: extract to a local staging file, one WRITE_TRUNCATE load job, then
 * verify the row count. One activity on purpose: the staging file lives on this worker's
 * disk, so the steps that use it must run in the same process.
 */
export function makeSyncTable(loaded: LoadedConfig) {
  return async function syncTable(task: TableTask): Promise<TableSyncOutcome> {
    const ctx = Context.current();
    const { bigquery } = loaded.config;
    if (!isValidBigQueryTableName(task.destination)) {
      throw schemaFailure(
        `${task.key}: "${task.destination}" is not a valid BigQuery table name; ` +
          `give the table a destination: name in ${loaded.file}`,
      );
    }
    const reader = await openSource(loaded, task.source);
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bqsync-'));
    try {
      const columns = await reader.describeTable(task.table);
      if (columns.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `${task.key}: the table does not exist at the source (dropped or renamed since it was listed?); ` +
            `remove it from ${loaded.file} or restore it`,
          FailureType.SourceTableMissing,
        );
      }
      const mappings: ColumnMapping[] = columns.map((c) => ({ ...reader.mapColumn(c), bigQueryName: c.name }));
      const invalid = mappings.filter((m) => !isValidBigQueryColumnName(m.bigQueryName)).map((m) => `"${m.source.name}"`);
      if (invalid.length > 0) {
        throw schemaFailure(
          `${task.key}: column ${invalid.join(', ')} cannot be a BigQuery column name ` +
            '(letters, digits and underscores, not starting with a digit); rename it at the source or exclude the table',
        );
      }

      const encoder = new RowEncoder(mappings);
      const gzip = bigquery.stagingCompression === 'gzip';
      const file = path.join(workDir, gzip ? 'rows.json.gz' : 'rows.json');
      const staged = await writeStagingFile(
        reader.streamRows(task.table, mappings),
        encoder,
        file,
        (p) => ctx.heartbeat({ phase: 'extract', rows: p.rows, bytes: p.bytes }),
        { gzip, signal: ctx.cancellationSignal },
      );
      // The source connection is not needed for the load; the finally below closes it again harmlessly.
      await reader.close();
      const nulled = Object.entries(encoder.nulledValues);
      if (task.invalidValues === 'fail' && nulled.length > 0) {
        // Names and counts only: the values themselves may be personal data.
        throw ApplicationFailure.nonRetryable(
          `${task.key}: values BigQuery cannot hold (zero dates, infinity, out-of-range years, NaN decimals): ` +
            nulled.map(([c, n]) => `column ${c}: ${n}`).join(', ') +
            `. Fix them at the source, or set invalidValues: null for the table in ${loaded.file} to load them as NULL`,
          FailureType.InvalidValues,
        );
      }

      const bq = createBigQuery(bigquery);
      await ensureDataset(bq, task.dataset, bigquery.location);
      const schema = mappings.map((m) => ({
        name: m.bigQueryName,
        type: m.bigQueryType,
        mode: 'NULLABLE',
        description: m.source.comment ? m.source.comment.slice(0, 1024) : undefined,
      }));
      await loadReplacing(bq, { dataset: task.dataset, table: task.destination, file, schema }, () =>
        ctx.heartbeat({ phase: 'load', rows: staged.rows, bytes: staged.bytes }),
      );

      const rowsLoaded = await countRows(bq, bigquery.project, task.dataset, task.destination);
      if (rowsLoaded !== staged.rows) {
        throw ApplicationFailure.nonRetryable(
          `${task.key}: read ${staged.rows} rows from the source but ${bigquery.project}.${task.dataset}.${task.destination} ` +
            `holds ${rowsLoaded}; the load did not land every row. Re-run the table; if it repeats, compare the two by key`,
          FailureType.Verification,
        );
      }
      return { rowsRead: staged.rows, rowsLoaded, bytesStaged: staged.bytes, nulledValues: encoder.nulledValues };
    } finally {
      await reader.close();
      await fs.rm(workDir, { recursive: true, force: true });
    }
  };
}
