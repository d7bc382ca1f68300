import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptors, ActivityExecuteInput, Next, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { RangePlan, RangeResult, TableSyncOutcome, TableTask } from '../common/payloads';
import { pipelineOfWorkflowId } from '../common/workflow-ids';

/** bqsync's own metrics, exported beside the SDK's (`temporal_*`) on the worker's /metrics. */
export const METRIC = {
  rows: 'bqsync_rows_synced',
  bytes: 'bqsync_bytes_staged',
  duration: 'bqsync_table_sync_duration_seconds',
  failures: 'bqsync_table_sync_failures',
} as const;


/** The table a table activity works on: syncTable takes the task, a key range or the finish carry it. */
function tableTaskOf(activityType: string, arg: unknown): TableTask | undefined {
  if (activityType === 'syncTable') return isTableTask(arg) ? arg : undefined;
  if (activityType !== 'syncRange' && activityType !== 'finishRanges') return undefined;
  const task = (arg as { task?: unknown } | undefined)?.task;
  return isTableTask(task) ? task : undefined;
}

function isTableTask(arg: unknown): arg is TableTask {
  const t = arg as TableTask | undefined;
  return typeof t?.key === 'string' && typeof t.source === 'string' && typeof t.table === 'string';
}

/**
 * Per activity: adds pipeline, source and table to its log lines, and for table syncs
 * records rows, bytes, duration and failures through the SDK's metric meter (exported by
 * the Runtime's Prometheus endpoint with the SDK's own metrics). An interceptor, so that
 * failures and durations are counted however the activity ends.
 */
export function tableSyncTelemetry(ctx: Context): ActivityInterceptors {
  const workflowId = ctx.info.workflowExecution?.workflowId;
  let task: TableTask | undefined;
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
      task = tableTaskOf(ctx.info.activityType, input.args[0]);
      if (!task) return next(input);
      const tags = { pipeline: pipelineOfWorkflowId(workflowId) ?? '', source: task.source, table: task.table };
      const meter = ctx.metricMeter;
      const began = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - began) / 1e9;
      // A table read in key ranges: its rows count once, when finishRanges swaps them in;
      // its duration is not one activity's, so only whole syncs are timed.
      const whole = ctx.info.activityType === 'syncTable';
      try {
        const result = (await next(input)) as TableSyncOutcome | RangePlan | RangeResult;
        if ('kind' in result) {
          ctx.log.info('key ranges planned', { ranges: result.ranges.length, seconds: Number(seconds().toFixed(3)) });
        } else if ('rowsLoaded' in result) {
          meter.createCounter(METRIC.rows, 'rows', 'rows loaded into BigQuery').add(result.rowsLoaded, tags);
          meter.createCounter(METRIC.bytes, 'bytes', 'bytes written to staging files').add(result.bytesStaged, tags);
          if (whole) meter.createHistogram(METRIC.duration, 'float', 's', 'extract, load and verify of one table').record(seconds(), { ...tags, outcome: 'succeeded' });
          ctx.log.info('table synced', { rowsRead: result.rowsRead, rowsLoaded: result.rowsLoaded, bytesStaged: result.bytesStaged, seconds: Number(seconds().toFixed(3)) });
        } else {
          ctx.log.info('key range staged', { rows: result.rows, bytesStaged: result.bytes, resumed: result.resumed, seconds: Number(seconds().toFixed(3)) });
        }
        return result;
      } catch (err) {
        const errorType = err instanceof ApplicationFailure ? (err.type ?? 'Error') : err instanceof Error ? err.name : 'Error';
        meter.createCounter(METRIC.failures, 'attempts', 'table sync attempts that failed').add(1, { ...tags, error_type: errorType });
        if (whole) meter.createHistogram(METRIC.duration, 'float', 's', 'extract, load and verify of one table').record(seconds(), { ...tags, outcome: 'failed' });
        throw err;
      }
    },
  };
  return {
    inbound,
    outbound: {
      getLogAttributes: (attrs, next) => {
        const pipeline = pipelineOfWorkflowId(workflowId);
        return next({ ...attrs, ...(pipeline && { pipeline }), ...(task && { source: task.source, table: task.table }) });
      },
    },
  };
}
