import type { BigQuery } from '@google-cloud/bigquery';
import { bucketSql, ChecksumSql, childIndex, keyRangeSql, leafSql } from '../common/checksum-query';
import type { CheckedKey, ComparedColumn, ContentSide } from '../common/content-checksum';
import { bigQueryChecksumDialect } from './checksum-sql';

/**
 * The BigQuery side of a content verification: the checksum queries run as query jobs that
 * read only the compared columns; the bytes they process are added up, from each job's
 * statistics (the emulator reports small or zero figures there: README "Verifying content").
 */
export class BigQueryContentSide implements ContentSide {
  bytesScanned = 0;
  private readonly dialect;

  constructor(
    private readonly bq: BigQuery,
    dataset: string,
    table: string,
    private readonly key: CheckedKey,
    private readonly columns: ComparedColumn[],
    private readonly location?: string,
    onEmulator = false,
  ) {
    this.dialect = bigQueryChecksumDialect(bq.projectId, dataset, table, onEmulator);
  }

  private async rows(sql: ChecksumSql): Promise<Record<string, unknown>[]> {
    const params = Object.fromEntries(sql.params.map((v, i) => [`p${i + 1}`, v]));
    const [job] = await this.bq.createQueryJob({
      query: sql.text,
      ...(sql.params.length > 0 && { params }),
      ...(this.location && { location: this.location }),
      useLegacySql: false,
    });
    const [rows] = await job.getQueryResults();
    const [meta] = await job.getMetadata();
    this.bytesScanned += Number(meta.statistics?.totalBytesProcessed ?? 0);
    return rows as Record<string, unknown>[];
  }

  async keyRange(): Promise<{ min: string; max: string } | undefined> {
    const [r] = await this.rows(keyRangeSql(this.dialect, this.key));
    return r?.lo == null || r.hi == null ? undefined : { min: String(r.lo), max: String(r.hi) };
  }

  async buckets(query: Parameters<ContentSide['buckets']>[0]) {
    const rows = await this.rows(bucketSql(this.dialect, this.key, this.columns, query));
    return rows.map((r) => ({ child: childIndex(query, String(r.b)), rows: Number(r.n), sumA: String(r.sa ?? '0'), sumB: String(r.sb ?? '0') }));
  }

  async leafRows(segment: Parameters<ContentSide['leafRows']>[0]) {
    const rows = await this.rows(leafSql(this.dialect, this.key, this.columns, segment));
    return rows.map((r) => ({
      key: this.key.columns.map((_, i) => String(r[`k${i}`])),
      columnHashes: this.columns.map((_, i) => String(r[`h${i}`])),
    }));
  }
}
