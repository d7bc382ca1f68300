import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, so that "all failed syncs of table X" is one filter in the
 * Web UI. Their names and types are registered on the server by `scripts/stack.sh` and by
 * the CLI (`ensureSearchAttributes`).
 */
export const searchAttributes = {
  pipeline: defineSearchAttributeKey('BqsyncPipeline', SearchAttributeType.KEYWORD),
  source: defineSearchAttributeKey('BqsyncSource', SearchAttributeType.KEYWORD),
  table: defineSearchAttributeKey('BqsyncTable', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('BqsyncOutcome', SearchAttributeType.KEYWORD),
  /** The table's load mode: replace, append or merge. */
  mode: defineSearchAttributeKey('BqsyncMode', SearchAttributeType.KEYWORD),
  /** `late` on a pipeline run that passed its `sla:` deadline before it ended. */
  late: defineSearchAttributeKey('BqsyncLate', SearchAttributeType.KEYWORD),
};

/** Set by Temporal on runs a schedule started (backfills included): the time they belong to. */
export const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const searchAttributeNames = Object.values(searchAttributes).map((k) => k.name);
