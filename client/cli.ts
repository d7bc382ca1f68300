#!/usr/bin/env node
import { Command, Option } from 'commander';
import dotenv from 'dotenv';
import { ConfigError, configPath, loadConfig } from '../config/load';
import { pickPipeline, runCommand } from './commands/run';
import { pipelineForTables, syncCommand } from './commands/sync';
import { validateCommand } from './commands/validate';
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
  .action(async () => exit(validateCommand(configPath(program.opts().config))));

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
  .action(async (opts: { shutdownGrace: number; metricsPort?: number; logLevel: string; logFormat: string; healthFile?: string }) => {
    const { runWorker } = await import('../worker/main');
    const { parseLogFormat, parseLogLevel } = await import('../worker/logging');
    await runWorker(config(), {
      shutdownGraceSeconds: opts.shutdownGrace,
      metricsPort: opts.metricsPort,
      logLevel: parseLogLevel(opts.logLevel),
      logFormat: parseLogFormat(opts.logFormat),
      healthFile: opts.healthFile,
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
  .command('run')
  .description('start a run of a pipeline now (all of its tables)')
  .argument('[pipeline]', 'pipeline name; optional when the config declares one')
  .option('--wait', 'wait for the end, print the summary, exit 1 if a table failed')
  .option('--full-refresh', 'rebuild append and merge tables from every source row')
  .action(async (pipeline: string | undefined, opts: { wait?: boolean; fullRefresh?: boolean }) => {
    const loaded = config();
    exit(await runCommand(loaded, pickPipeline(loaded, pipeline), Boolean(opts.wait), Boolean(opts.fullRefresh)));
  });

program
  .command('sync')
  .description('sync these tables now: add them to the running run, or start a run of just them')
  .argument('<tables...>', 'tables as source.table')
  .option('-p, --pipeline <name>', 'pipeline, when several hold the tables')
  .option('--wait', 'wait until the tables finish, exit 1 if one failed')
  .option('--full-refresh', 'rebuild the tables from every source row, whatever their mode')
  .action(async (tables: string[], opts: { pipeline?: string; wait?: boolean; fullRefresh?: boolean }) => {
    const loaded = config();
    const pipeline = pipelineForTables(loaded, tables, opts.pipeline);
    exit(await syncCommand(loaded, tables, pickPipeline(loaded, pipeline), Boolean(opts.wait), Boolean(opts.fullRefresh)));
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
  .action(async (opts: { prune?: boolean }) => {
    const { scheduleApply } = await import('./commands/schedule');
    exit(await scheduleApply(config(), Boolean(opts.prune)));
  });

schedule
  .command('list')
  .description('the bqsync schedules, paused or not, with their next run times')
  .action(async () => {
    const { scheduleList } = await import('./commands/schedule');
    exit(await scheduleList(config()));
  });

for (const verb of ['pause', 'unpause'] as const) {
  schedule
    .command(verb)
    .description(`${verb} the schedule of a pipeline, with a note for the next operator`)
    .argument('<pipeline>')
    .option('-n, --note <text>', 'why (shown in the Web UI and in schedule list)')
    .action(async (pipeline: string, opts: { note?: string }) => {
      const { scheduleSetPaused } = await import('./commands/schedule');
      exit(await scheduleSetPaused(config(), pickPipeline(config(), pipeline), verb === 'pause', opts.note));
    });
}

schedule
  .command('trigger')
  .description("start a pipeline's scheduled run now")
  .argument('<pipeline>')
  .action(async (pipeline: string) => {
    const { scheduleTrigger } = await import('./commands/schedule');
    exit(await scheduleTrigger(config(), pickPipeline(config(), pipeline)));
  });

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${value}" is not a port number (1-65535)`);
  return port;
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
