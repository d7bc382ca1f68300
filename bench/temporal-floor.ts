/**
 * The orchestration overhead Temporal itself has on this machine, measured the way a
 * bqsync run's is (bench/overhead.ts), so that the 1,000-table figures have a floor beside
 * them: bench/floor-workflows.ts run by a worker in this process on a fresh stack, the
 * same tables, limits and stand-in activity time as the bqsync run, with nothing of
 * bqsync's own (discovery, write locks, search attributes, continue-as-new).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { FloorActivities, FloorRunInput } from './floor-workflows';
import { executionHistories, OverheadFigures, overheadFigures, overheadOfExecutions } from './overhead';
import { BenchStack, freshStack, stackPids, temporalAddress } from './stack';
import { procCpuSeconds } from './server-cpu';

const TASK_QUEUE = 'bqsync-floor';

export interface FloorFigure extends OverheadFigures {
  tables: number;
  perSource: number;
  perRun: number;
  activityMs: number;
  childEventsMean: number;
  runEventsPerTable: number;
  cpuSeconds: { worker: number; temporal: number };
}

export async function temporalFloor(stack: BenchStack, input: FloorRunInput): Promise<FloorFigure> {
  freshStack(stack);
  const address = temporalAddress(stack);
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    const activities: FloorActivities = { standIn: (ms) => sleep(ms) };
    const worker = await Worker.create({ connection: native, taskQueue: TASK_QUEUE, workflowsPath: require.resolve('./floor-workflows'), activities });
    const client = new Client({ connection });
    const temporalPid = stackPids(stack).temporal;
    const cpuBefore = { self: process.cpuUsage(), temporal: procCpuSeconds(`/proc/${temporalPid}/stat`) };
    const handle = await worker.runUntil(async () => {
      const h = await client.workflow.start('floorRun', { taskQueue: TASK_QUEUE, workflowId: 'floor-run', args: [input] });
      await h.result();
      return h;
    });
    const self = process.cpuUsage(cpuBefore.self);
    const temporalCpu = procCpuSeconds(`/proc/${temporalPid}/stat`) - cpuBefore.temporal;
    const executions = await executionHistories(client, handle.workflowId, handle.firstExecutionRunId);
    const report = await overheadOfExecutions(client, executions, input.perSource, input.perRun);
    return {
      ...overheadFigures(report),
      tables: report.tables.length,
      perSource: input.perSource,
      perRun: input.perRun,
      activityMs: input.activityMs,
      childEventsMean: report.tables.reduce((n, t) => n + t.events, 0) / Math.max(1, report.tables.length),
      runEventsPerTable: executions.reduce((n, e) => n + e.length, 0) / Math.max(1, report.tables.length),
      // This process ran the worker; starting the run and reading the histories afterwards are not counted.
      cpuSeconds: { worker: (self.user + self.system) / 1e6, temporal: temporalCpu },
    };
  } finally {
    await connection.close();
    await native.close();
  }
}
