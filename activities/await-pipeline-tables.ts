import { Context } from '@temporalio/activity';
import type { PipelineRequirement } from '../common/payloads';
import { failure } from '../common/failures';
import { searchAttributes } from '../common/search-attributes';
import { sessionValues } from '../common/session-time';

/** How often Temporal's visibility is asked whether the required tables have landed. */
const POLL_MS = Number(process.env.BQSYNC_REQUIRES_POLL_MS ?? 15_000);

export interface AwaitPipelineTablesInput {
  /** The waiting pipeline, for messages. */
  pipeline: string;
  requirement: PipelineRequirement;
  /** When the wait gives up (ISO 8601): fixed by the workflow, the same in every attempt. */
  giveUpAt: string;
}

/**
 * Waits until each required table has a succeeded table sync in a run of the other pipeline
 * that stands for the same session date (its table-sync IDs carry the run's session time:
 * `bqsync-nightly.2026-11-24T22:00:00Z.shop.orders`), reading Temporal's visibility.
 * Fails as DependencyTimeout, naming what is missing, once `giveUpAt` has passed.
 */
export async function awaitPipelineTables(input: AwaitPipelineTablesInput): Promise<{ landed: string[] }> {
  const ctx = Context.current();
  const { requirement: r } = input;
  const missing = new Set(r.tables);
  for (;;) {
    for (const key of [...missing]) if (await landed(ctx, r, key)) missing.delete(key);
    ctx.heartbeat({ missing: [...missing] });
    if (missing.size === 0) return { landed: r.tables };
    const left = Date.parse(input.giveUpAt) - Date.now();
    if (left <= 0) {
      throw failure('DependencyTimeout', `pipeline ${input.pipeline} waited for ${r.pipeline}: ${[...missing].join(', ')} (session date ${r.sessionDate}) ` +
          `and gave up at ${input.giveUpAt}; none of its runs for that date has landed them. Check bqsync runs ${r.pipeline}`);
    }
    await Promise.race([new Promise((done) => setTimeout(done, Math.min(POLL_MS, left))), ctx.cancelled]);
  }
}

/** A succeeded sync of the table in a run of the pipeline whose session date is the one wanted. */
async function landed(ctx: Context, r: PipelineRequirement, key: string): Promise<boolean> {
  const query =
    `WorkflowType = 'tableSync' AND ${searchAttributes.pipeline.name} = '${quoted(r.pipeline)}' AND ` +
    `${searchAttributes.table.name} = '${quoted(key)}' AND ${searchAttributes.outcome.name} = 'succeeded'`;
  const prefix = `bqsync-${r.pipeline}.`;
  for await (const wf of ctx.client.workflow.list({ query, pageSize: 50 })) {
    const stamp = wf.workflowId.startsWith(prefix) ? wf.workflowId.slice(prefix.length).split('.')[0] : '';
    const date = Number.isNaN(Date.parse(stamp)) ? undefined : sessionValues(stamp, r.timeZone, undefined).session_date;
    if (date === r.sessionDate) return true;
  }
  return false;
}

/** Names here are checked by the config (letters, digits, dots, underscores); quotes are dropped all the same. */
const quoted = (text: string) => text.replace(/['\\]/g, '');
