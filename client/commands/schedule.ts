import { Client, ScheduleNotFoundError, ScheduleOptions } from '@temporalio/client';
import { msToTs, tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { LoadedConfig } from '../../config/load';
import type { Config, ScheduleConfig } from '../../config/schema';
import { nightlySync } from '../../workflows';
import { searchAttributes } from '../../common/search-attributes';
import { isOwnScheduleId, pipelineWorkflowId, scheduleId, scheduledWorkflowId } from '../../common/workflow-ids';
import { connectClient, ensureSearchAttributes } from '../temporal';


/** One line that says when a schedule fires, for diffs and listings. */
export function describeSchedule(s: ScheduleConfig): string {
  const when = s.cron ? `cron "${s.cron}" in ${s.timezone}` : `every ${s.every}`;
  return `${when}, overlap ${s.overlap}, catch-up ${s.catchupWindow}${s.jitter ? `, jitter ${s.jitter}` : ''}`;
}

/** The Temporal Schedule for a pipeline; the applied config rides along in the memo. */
export function scheduleOptions(config: Config, pipeline: string, s: ScheduleConfig): ScheduleOptions {
  const p = config.pipelines[pipeline];
  return {
    scheduleId: scheduleId(pipeline),
    spec: {
      ...(s.cron ? { cronExpressions: [s.cron], timezone: s.timezone } : { intervals: [{ every: s.every! }] }),
      jitter: s.jitter,
    },
    action: {
      type: 'startWorkflow',
      workflowType: nightlySync,
      // Temporal appends the scheduled time: bqsync-nightly-2026-11-25T17:00:00Z.
      workflowId: pipelineWorkflowId(pipeline),
      taskQueue: config.temporal.taskQueue,
      args: [{ pipeline }],
      typedSearchAttributes: [{ key: searchAttributes.pipeline, value: pipeline }],
      staticSummary: `Scheduled sync of pipeline ${pipeline}: ${p.sources.join(', ')}`,
      memo: { bqsyncSchedule: describeSchedule(s) },
    },
    policies: { overlap: s.overlap.toUpperCase() as 'SKIP', catchupWindow: s.catchupWindow },
  };
}

async function listOwnSchedules(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (isOwnScheduleId(s.scheduleId)) ids.push(s.scheduleId);
  return ids;
}

/**
 * Makes the server's schedules match the config: creates, updates, and (with prune)
 * deletes schedules the config no longer declares. Prints what it did, one line each.
 */
export async function scheduleApply(loaded: LoadedConfig, prune: boolean, json = false): Promise<number> {
  const { config } = loaded;
  const client = await connectClient(config);
  const changes: { scheduleId: string; change: 'created' | 'updated' | 'unchanged' | 'deleted' | 'not in config'; schedule?: string; was?: string }[] = [];
  const say = (line: string) => json || console.log(line);
  try {
    await ensureSearchAttributes(client, config);
    const wanted = new Set<string>();
    for (const [pipeline, p] of Object.entries(config.pipelines)) {
      if (!p.schedule) continue;
      const options = scheduleOptions(config, pipeline, p.schedule);
      wanted.add(options.scheduleId);
      const handle = client.schedule.getHandle(options.scheduleId);
      const current = await handle.describe().catch((err) => {
        if (err instanceof ScheduleNotFoundError) return undefined;
        throw err;
      });
      if (!current) {
        await client.schedule.create(options);
        changes.push({ scheduleId: options.scheduleId, change: 'created', schedule: describeSchedule(p.schedule) });
        say(`+ created ${options.scheduleId}: ${describeSchedule(p.schedule)}`);
        continue;
      }
      const was = current.action.type === 'startWorkflow' ? current.action.memo?.bqsyncSchedule : undefined;
      if (was === describeSchedule(p.schedule)) {
        changes.push({ scheduleId: options.scheduleId, change: 'unchanged', schedule: was });
        say(`  unchanged ${options.scheduleId}: ${was}`);
        continue;
      }
      await handle.update((prev) => ({ ...options, state: prev.state }));
      changes.push({ scheduleId: options.scheduleId, change: 'updated', schedule: describeSchedule(p.schedule), was: was === undefined ? undefined : String(was) });
      say(`~ updated ${options.scheduleId}: ${describeSchedule(p.schedule)} (was: ${was ?? 'unknown'})`);
    }
    const extra = (await listOwnSchedules(client)).filter((id) => !wanted.has(id));
    for (const id of extra) {
      if (prune) {
        await client.schedule.getHandle(id).delete();
        changes.push({ scheduleId: id, change: 'deleted' });
        say(`- deleted ${id}: no pipeline in ${loaded.file} declares it`);
      } else {
        changes.push({ scheduleId: id, change: 'not in config' });
        say(`! ${id} is not in ${loaded.file}; run again with --prune to delete it`);
      }
    }
    if (json) console.log(JSON.stringify(changes, null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}

/** Each bqsync schedule: paused or not (with the note), and its next run times. */
export async function scheduleList(loaded: LoadedConfig, json = false): Promise<number> {
  const client = await connectClient(loaded.config);
  try {
    const ids = await listOwnSchedules(client);
    const listed: { scheduleId: string; paused: boolean; note?: string; schedule?: string; next: string[] }[] = [];
    if (ids.length === 0 && !json) console.log('no bqsync schedules; declare schedule: in a pipeline and run bqsync schedule apply');
    for (const id of ids.sort()) {
      const d = await client.schedule.getHandle(id).describe();
      const what = d.action.type === 'startWorkflow' ? d.action.memo?.bqsyncSchedule : '';
      const state = d.state.paused ? `PAUSED${d.state.note ? ` (${d.state.note})` : ''}` : 'active';
      const next = d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString());
      listed.push({ scheduleId: id, paused: d.state.paused, note: d.state.note, schedule: what === undefined ? undefined : String(what), next });
      if (!json) console.log(`${id}  ${state}  ${what}\n  next: ${next.join(', ') || 'none'}`);
    }
    if (json) console.log(JSON.stringify(listed, null, 2));
    return 0;
  } finally {
    await client.connection.close();
  }
}

export async function scheduleSetPaused(loaded: LoadedConfig, pipeline: string, paused: boolean, note?: string, json = false): Promise<number> {
  const client = await connectClient(loaded.config);
  try {
    const handle = client.schedule.getHandle(scheduleId(pipeline));
    const why = note ?? `${paused ? 'paused' : 'unpaused'} with bqsync by ${process.env.USER ?? 'an operator'}`;
    if (paused) await handle.pause(why);
    else await handle.unpause(why);
    if (json) console.log(JSON.stringify({ scheduleId: scheduleId(pipeline), paused, note: why }, null, 2));
    else console.log(`${scheduleId(pipeline)} ${paused ? 'paused' : 'unpaused'}: ${why}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}

export async function scheduleTrigger(loaded: LoadedConfig, pipeline: string, json = false): Promise<number> {
  const client = await connectClient(loaded.config);
  try {
    await client.schedule.getHandle(scheduleId(pipeline)).trigger();
    if (json) console.log(JSON.stringify({ scheduleId: scheduleId(pipeline), triggered: true }, null, 2));
    else console.log(`${scheduleId(pipeline)} triggered: a run starts now (unless one is running: overlap policy)`);
    return 0;
  } finally {
    await client.connection.close();
  }
}

/** Overlap policies a backfill may use; each keeps one run of a pipeline at a time. */
export const BACKFILL_OVERLAP = ['skip', 'buffer_one', 'buffer_all'] as const;
export type BackfillOverlap = (typeof BACKFILL_OVERLAP)[number];

function parseInstant(text: string, flag: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime())) {
    throw new Error(`${flag} takes an ISO 8601 time such as 2026-11-20T00:00:00Z, not "${text}"`);
  }
  return d;
}

/**
 * Runs a pipeline for every time its schedule would have fired in [from, to) (from included,
 * to excluded): a Temporal
 * Schedule backfill. buffer_all (the default) starts them one after another; the
 * schedule's own skip policy would drop every run that finds the previous one still going.
 * Each run's table syncs carry its scheduled date in their workflow IDs.
 */
export async function scheduleBackfill(
  loaded: LoadedConfig,
  pipeline: string,
  fromText: string,
  toText: string,
  overlap: string,
  json: boolean,
): Promise<number> {
  const from = parseInstant(fromText, '--from');
  const to = parseInstant(toText, '--to');
  if (to <= from) throw new Error(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
  if (!(BACKFILL_OVERLAP as readonly string[]).includes(overlap)) {
    throw new Error(`--overlap takes ${BACKFILL_OVERLAP.join(', ')}, not "${overlap}"`);
  }
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    const id = scheduleId(pipeline);
    const handle = client.schedule.getHandle(id);
    await handle.describe().catch((err) => {
      if (err instanceof ScheduleNotFoundError) {
        throw new Error(`no schedule ${id}: declare schedule: for pipeline ${pipeline} in ${loaded.file} and run bqsync schedule apply`);
      }
      throw err;
    });
    // The times the schedule matches in the window: the runs the backfill starts.
    const matching: temporal.api.workflowservice.v1.IListScheduleMatchingTimesResponse =
      await client.workflowService.listScheduleMatchingTimes({
        namespace: config.temporal.namespace,
        scheduleId: id,
        // This call answers for (start, end]; a backfill covers [start, end).
        startTime: msToTs(from.getTime() - 1),
        endTime: msToTs(to.getTime() - 1),
      });
    const times = (matching.startTime ?? [])
      .map((t) => tsToDate(t))
      .filter((t) => t >= from && t < to)
      .map((t) => t.toISOString());
    await handle.backfill({ start: from, end: to, overlap: overlap.toUpperCase() as 'BUFFER_ALL' });
    if (json) console.log(JSON.stringify({ scheduleId: id, from: from.toISOString(), to: to.toISOString(), overlap, runs: times }, null, 2));
    else {
      console.log(`${id}: backfill of ${from.toISOString()} to ${to.toISOString()} requested (overlap ${overlap}), ${times.length} run(s):`);
      for (const t of times) console.log(`  ${scheduledWorkflowId(pipeline, t)}`);
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
