#!/usr/bin/env node
import { Command, Option } from 'commander';
import dotenv from 'dotenv';
import { ConfigError, configPath, loadConfig } from '../config/load';
import { pickPipeline, pipelineForTables } from './pipeline-choice';
import { parseSessionTime } from '../common/session-time';
import { pipelineTimeZone } from '../config/session';
import { materializeGcpCredentials } from './gcp-credentials';

// Local development keeps connection URLs in .env; in production they come from the environment.
dotenv.config({ quiet: true });
try {
  materializeGcpCredentials();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}

const program = new Command()
  .name('bqsync')
  .description('Sync MySQL and PostgreSQL tables into BigQuery, run by Temporal')
  .option('-c, --config <file>', 'config file (default: $BQSYNC_CONFIG or ./bqsync.yaml)')
  .showHelpAfterError();

const config = () => loadConfig(configPath(program.opts().config));

program
  .command('validate')
  .description('check the config file: schema, unknown keys, literal secrets, DAG references and cycles')
  .option('--json', 'print JSON, for scripts')
  .action(async (opts: { json?: boolean }) => {
    const { validateCommand } = await import('./commands/validate');
    exit(validateCommand(configPath(program.opts().config), Boolean(opts.json)));
  });

program
  .command('worker')
  .description('run a worker: poll the task queue and run workflows and activities until SIGTERM')
  .addOption(
    new Option('--shutdown-grace <seconds>', 'time running activities get to finish after SIGTERM')
      .env('BQSYNC_SHUTDOWN_GRACE_SECONDS')
      .default('90')
      .argParser(Number),
  )
  .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics on this port (/metrics)').env('BQSYNC_METRICS_PORT').argParser(parsePort))
  .addOption(new Option('--log-level <level>', 'trace, debug, info, warn or error').env('BQSYNC_LOG_LEVEL').default('info'))
  .addOption(new Option('--log-format <format>', 'json (one object per line) or text').env('BQSYNC_LOG_FORMAT').default('text'))
  .addOption(new Option('--health-file <path>', 'keep the worker state in this file, for the container health check').env('BQSYNC_HEALTH_FILE'))
  .addOption(
    new Option('--scale-in-idle <seconds>', 'on ECS: clear the task\'s scale-in protection after this long without running activities')
      .env('BQSYNC_SCALE_IN_IDLE_SECONDS')
      .default('120')
      .argParser(Number),
  )
  .addOption(
    new Option('--staging-budget <size>', 'at most this many bytes of staged files on this worker at once (e.g. 15GiB); no limit by default').env(
      'BQSYNC_STAGING_BUDGET_BYTES',
    ),
  )
  .addOption(
    new Option('--max-activities <n>', 'at most this many activities at once on this worker (a table sync, a key range, a step); 100 by default')
      .env('BQSYNC_MAX_ACTIVITIES')
      .argParser(parsePositive),
  )
  .addOption(
    new Option('--encode-threads <n>', "threads that decode and encode rows beside the main thread (0: the main thread does); by default one per core beyond the first, none on 2 cores or fewer")
      .env('BQSYNC_ENCODE_THREADS')
      .argParser(parseCount),
  )
  .action(async (opts: { shutdownGrace: number; metricsPort?: number; logLevel: string; logFormat: string; healthFile?: string; scaleInIdle: number; stagingBudget?: string; maxActivities?: number; encodeThreads?: number }) => {
    const { runWorker } = await import('../worker/main');
    const { parseLogFormat, parseLogLevel } = await import('../worker/logging');
    const { parseByteSize } = await import('../worker/byte-size');
    await runWorker(config(), {
      shutdownGraceSeconds: opts.shutdownGrace,
      metricsPort: opts.metricsPort,
      logLevel: parseLogLevel(opts.logLevel),
      logFormat: parseLogFormat(opts.logFormat),
      healthFile: opts.healthFile,
      scaleInIdleSeconds: opts.scaleInIdle,
      stagingBudgetBytes: opts.stagingBudget === undefined ? undefined : parseByteSize(opts.stagingBudget, 'BQSYNC_STAGING_BUDGET_BYTES'),
      maxActivities: opts.maxActivities,
      encodeThreads: opts.encodeThreads,
    });
  });

program
  .command('doctor')
  .description('check that Temporal, every source and BigQuery are reachable with the permissions a sync needs')
  .action(async () => {
    const { doctorCommand } = await import('./commands/doctor');
    exit(await doctorCommand(config()));
  });

program
  .command('import')
  .description('make a bqsync config from a Digdag + Embulk project, with a report of what was not carried over')
  .argument('<dir>', 'the project directory: .dig files and Embulk configs (.yml, .yml.liquid)')
  .option('-o, --output <file>', 'the config file to write', 'bqsync.yaml')
  .option('--json', 'print JSON, for scripts')
  .action(async (dir: string, opts: { output: string; json?: boolean }) => {
    const { importCommand } = await import('./commands/import');
    exit(importCommand(dir, opts.output, Boolean(opts.json)));
  });

program
  .command('run')
  .description('start a run of a pipeline now (all of its tables)')
  .argument('[pipeline]', 'pipeline name; optional when the config declares one')
  .option('--wait', 'wait for the end, print the summary, exit 1 if a table failed')
  .option('--full-refresh', 'rebuild append and merge tables from every source row')
  .option('--session-time <time>', "the time the run stands for ({{session_date}} in SQL steps): a date (midnight in the pipeline's zone) or an ISO time with offset; default: now")
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string | undefined, opts: { wait?: boolean; json?: boolean; fullRefresh?: boolean; sessionTime?: string }) => {
    const loaded = config();
    const name = pickPipeline(loaded, pipeline);
    const sessionTime = opts.sessionTime === undefined ? undefined : parseSessionTime(opts.sessionTime, pipelineTimeZone(loaded.config.pipelines[name]));
    const { runCommand } = await import('./commands/run');
    exit(await runCommand(loaded, name, Boolean(opts.wait), Boolean(opts.json), Boolean(opts.fullRefresh), sessionTime));
  });

program
  .command('sync')
  .description('sync these tables now: add them to the running run, or start a run of just them')
  .argument('<tables...>', 'tables as source.table')
  .option('-p, --pipeline <name>', 'pipeline, when several hold the tables')
  .option('--wait', 'wait until the tables finish (rows and rows/s per table), exit 1 if one failed')
  .option('--full-refresh', 'rebuild the tables from every source row, whatever their mode')
  .option('--json', 'print JSON, for scripts')
  .action(async (tables: string[], opts: { pipeline?: string; wait?: boolean; json?: boolean; fullRefresh?: boolean }) => {
    const loaded = config();
    const pipeline = pipelineForTables(loaded, tables, opts.pipeline);
    const { syncCommand } = await import('./commands/sync');
    exit(
      await syncCommand(loaded, tables, pickPipeline(loaded, pipeline), Boolean(opts.wait), {
        json: Boolean(opts.json),
        fullRefresh: Boolean(opts.fullRefresh),
      }),
    );
  });

program
  .command('verify')
  .description("compare tables' content at the source and in BigQuery by checksums, and name the keys that differ")
  .argument('<tables...>', 'tables as source.table')
  .option('-p, --pipeline <name>', 'pipeline, when several hold the tables')
  .option('--json', 'print JSON, for scripts')
  .action(async (tables: string[], opts: { pipeline?: string; json?: boolean }) => {
    const { verifyCommand } = await import('./commands/verify');
    const loaded = config();
    exit(await verifyCommand(loaded, pipelineForTables(loaded, tables, opts.pipeline), tables, Boolean(opts.json)));
  });

program
  .command('runs')
  .description('recent runs: start time, status, duration, tables succeeded/failed/skipped')
  .argument('[pipeline]', 'only this pipeline (default: all)')
  .option('-n, --limit <n>', 'how many runs', '10')
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string | undefined, opts: { limit: string; json?: boolean }) => {
    const { runsCommand } = await import('./commands/runs');
    const loaded = config();
    exit(await runsCommand(loaded, pipeline && pickPipeline(loaded, pipeline), Number(opts.limit), Boolean(opts.json)));
  });

program
  .command('retry')
  .description('re-run the tables that failed in a run, the way sync does (never twice at once)')
  .argument('<run>', 'a run\'s workflow ID (e.g. bqsync-nightly), or "last" for the pipeline\'s latest run')
  .argument('[runId]', 'the run ID, when the workflow ID has had several runs')
  .option('--failed', 'the tables that failed in that run')
  .option('-p, --pipeline <name>', 'pipeline, for "last" (optional when the config declares one)')
  .option('--wait', 'wait until the tables finish, exit 1 if one failed')
  .option('--json', 'print JSON, for scripts')
  .action(async (run: string, runId: string | undefined, opts: { failed?: boolean; pipeline?: string; wait?: boolean; json?: boolean }) => {
    const { retryCommand } = await import('./commands/runs');
    const loaded = config();
    const pipeline = run === 'last' ? pickPipeline(loaded, opts.pipeline) : opts.pipeline;
    exit(
      await retryCommand(loaded, run, {
        runId,
        pipeline,
        failed: Boolean(opts.failed),
        wait: Boolean(opts.wait),
        json: Boolean(opts.json),
      }),
    );
  });

program
  .command('plan')
  .description('what a run would do: tables after discovery, modes, DAG levels, limits (runs nothing)')
  .argument('[pipeline]', 'pipeline name; optional when the config declares one')
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string | undefined, opts: { json?: boolean }) => {
    const { planCommand } = await import('./commands/plan');
    const loaded = config();
    exit(await planCommand(loaded, pickPipeline(loaded, pipeline), Boolean(opts.json)));
  });

program
  .command('inventory')
  .description('every pipeline and table: schedule, mode, owner, purpose, impact, last run and outcome')
  .option('--markdown', 'print a Markdown document')
  .option('--json', 'print JSON, for scripts')
  .action(async (opts: { markdown?: boolean; json?: boolean }) => {
    const { inventoryCommand } = await import('./commands/inventory');
    exit(await inventoryCommand(config(), opts.json ? 'json' : opts.markdown ? 'markdown' : 'text'));
  });

program
  .command('status')
  .description("the live state of each table of a pipeline's running (or last) run")
  .argument('[pipeline]', 'pipeline name; optional when the config declares one')
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string | undefined, opts: { json?: boolean }) => {
    const { statusCommand } = await import('./commands/inspect');
    const loaded = config();
    exit(await statusCommand(loaded, pickPipeline(loaded, pipeline), Boolean(opts.json)));
  });

program
  .command('failures')
  .description('table syncs that failed recently: table, error type, message, attempts, Web UI link')
  .option('--since <window>', 'how far back, e.g. 90m, 24h, 7d', '24h')
  .option('--json', 'print JSON, for scripts')
  .action(async (opts: { since: string; json?: boolean }) => {
    const { failuresCommand } = await import('./commands/inspect');
    exit(await failuresCommand(config(), opts.since, Boolean(opts.json)));
  });

const schedule = program.command('schedule').description('Temporal Schedules of the pipelines, as the config declares them');

schedule
  .command('apply')
  .description('create or update one schedule per pipeline with schedule:, and print what changed')
  .option('--prune', 'also delete bqsync schedules that the config no longer declares')
  .option('--json', 'print JSON, for scripts')
  .action(async (opts: { prune?: boolean; json?: boolean }) => {
    const { scheduleApply } = await import('./commands/schedule');
    exit(await scheduleApply(config(), Boolean(opts.prune), Boolean(opts.json)));
  });

schedule
  .command('list')
  .description('the bqsync schedules, paused or not, with their next run times')
  .option('--json', 'print JSON, for scripts')
  .action(async (opts: { json?: boolean }) => {
    const { scheduleList } = await import('./commands/schedule');
    exit(await scheduleList(config(), Boolean(opts.json)));
  });

for (const verb of ['pause', 'unpause'] as const) {
  schedule
    .command(verb)
    .description(`${verb} the schedule of a pipeline, with a note for the next operator`)
    .argument('<pipeline>')
    .option('-n, --note <text>', 'why (shown in the Web UI and in schedule list)')
    .option('--json', 'print JSON, for scripts')
    .action(async (pipeline: string, opts: { note?: string; json?: boolean }) => {
      const { scheduleSetPaused } = await import('./commands/schedule');
      exit(await scheduleSetPaused(config(), pickPipeline(config(), pipeline), verb === 'pause', opts.note, Boolean(opts.json)));
    });
}

schedule
  .command('backfill')
  .description('run the pipeline for every time its schedule matches in [--from, --to)')
  .argument('<pipeline>')
  .requiredOption('--from <time>', 'start, ISO 8601 (e.g. 2026-11-20T00:00:00Z)')
  .requiredOption('--to <time>', 'end, ISO 8601')
  .option('--overlap <policy>', 'skip, buffer_one or buffer_all (one after another)', 'buffer_all')
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string, opts: { from: string; to: string; overlap: string; json?: boolean }) => {
    const { scheduleBackfill } = await import('./commands/schedule');
    exit(await scheduleBackfill(config(), pickPipeline(config(), pipeline), opts.from, opts.to, opts.overlap, Boolean(opts.json)));
  });

schedule
  .command('trigger')
  .description("start a pipeline's scheduled run now")
  .argument('<pipeline>')
  .option('--json', 'print JSON, for scripts')
  .action(async (pipeline: string, opts: { json?: boolean }) => {
    const { scheduleTrigger } = await import('./commands/schedule');
    exit(await scheduleTrigger(config(), pickPipeline(config(), pipeline), Boolean(opts.json)));
  });

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${value}" is not a port number (1-65535)`);
  return port;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${value}" is not a whole number of 1 or more`);
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${value}" is not a whole number of 0 or more`);
  return n;
}

function exit(code: number): void {
  process.exitCode = code;
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`error: ${err.message}`);
  else {
    // Temporal's errors wrap the reason (an update rejected, a server error) in `cause`.
    const cause = (err as { cause?: Error }).cause;
    console.error(`error: ${err instanceof Error ? err.message : String(err)}${cause?.message ? `: ${cause.message}` : ''}`);
  }
  process.exitCode = 1;
});
