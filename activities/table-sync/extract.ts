import path from 'node:path';
import type { SourceConnection } from '../../sources/driver';
import { CursorRead, incrementalFilter } from './high-water';
import { chunkingKey, StagedRanges, stageKeyRanges } from './key-ranges';
import type { SyncPlan } from './plan';
import { readRowsToFile, StagedRows } from './read-rows';
import type { EarlierWork } from './resume';
import type { TableSync } from './sync-context';

/** The table's rows in one file; `next` is the sequence number of the job that loads it. */
export interface StagedFile extends StagedRows {
  file: string;
  /** Incremental: the lowest cursor value read (absent on a first load). */
  cursorFrom?: string;
  next: number;
}

/** What extraction leaves for the load stage. */
export type Extracted =
  | ({ kind: 'file' } & StagedFile)
  /** An earlier attempt's staging load: its rows are in the staging table already. */
  | Extract<EarlierWork, { kind: 'staged' }>
  /** Every key range is in the staging table, loaded range by range while the next was read. */
  | ({ kind: 'ranges' } & StagedRanges);

/**
 * Reads what this attempt needs from the source: nothing when an earlier attempt staged the
 * rows, the key ranges of a large table, or else one file of the whole table or of the rows
 * from the cursor on.
 */
export async function extract(
  sync: TableSync,
  reader: SourceConnection,
  plan: SyncPlan,
  earlier: Exclude<EarlierWork, { kind: 'done' }>,
  cursor: CursorRead | undefined,
): Promise<Extracted> {
  if (earlier.kind === 'staged') return earlier;
  // A full load of a large table goes in key ranges, so that a crash costs one range.
  const chunking = plan.incremental ? undefined : await chunkingKey(reader, sync.task, plan.shape, earlier.kind === 'ranges');
  if (chunking) return { kind: 'ranges', ...(await stageKeyRanges(sync, reader, plan, chunking, earlier)) };
  const from = plan.incremental ? await incrementalFilter(sync, plan, cursor!) : undefined;
  const file = path.join(sync.workDir, sync.gzip ? 'rows.json.gz' : 'rows.json');
  // verify: checksum compares the content in the snapshot of this one read (verify-content.ts).
  if (sync.task.verify === 'checksum') reader.holdSnapshot();
  const staged = await readRowsToFile(sync, reader, plan.shape, from, file, (p) =>
    sync.heartbeat({ phase: 'extract', rows: p.rows, bytes: p.bytes }),
  );
  return { kind: 'file', file, ...staged, ...(from && { cursorFrom: from.from }), next: earlier.next };
}
