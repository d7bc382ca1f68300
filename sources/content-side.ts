import { bucketSql, ChecksumDialect, ChecksumSql, childIndex, keyRangeSql, leafSql } from '../common/checksum-query';
import type { BucketQuery, BucketSum, CheckedKey, ComparedColumn, ContentSide, LeafRow, Segment } from '../common/content-checksum';

/** Runs one checksum query in the connection's session (and snapshot); every value as text. */
export type ChecksumRunner = (sql: ChecksumSql) => Promise<(string | null)[][]>;

/** The source side of a content verification, for any engine: its dialect and a session to run in. */
export function sourceContentSide(dialect: ChecksumDialect, run: ChecksumRunner, key: CheckedKey, columns: ComparedColumn[]): ContentSide {
  return {
    async keyRange() {
      const [r] = await run(keyRangeSql(dialect, key));
      return r?.[0] == null || r[1] == null ? undefined : { min: r[0], max: r[1] };
    },
    async buckets(query: BucketQuery): Promise<BucketSum[]> {
      const rows = await run(bucketSql(dialect, key, columns, query));
      return rows.map((r) => ({ child: childIndex(query, String(r[0])), rows: Number(r[1]), sumA: r[2] ?? '0', sumB: r[3] ?? '0' }));
    },
    async leafRows(segment: Segment): Promise<LeafRow[]> {
      const rows = await run(leafSql(dialect, key, columns, segment));
      const k = key.columns.length;
      return rows.map((r) => ({ key: r.slice(0, k).map(String), columnHashes: r.slice(k).map(String) }));
    },
  };
}
