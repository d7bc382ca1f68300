import type { Client } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
import { mergedTableSettings, tableName } from '../../config/load';
import { listRuns } from '../run-history';
import { webUiLink } from '../../common/web-ui';
import { connectClient } from '../temporal';
import { describeSchedule } from './schedule';
import { planPipeline } from './plan';
import { searchAttributes } from '../../common/search-attributes';

export interface InventoryTable {
  key: string;
  mode: string;
  owner?: string;
  purpose?: string;
  impact?: string;
  lastRun?: string;
  lastOutcome?: string;
  link?: string;
}

export interface InventoryPipeline {
  pipeline: string;
  schedule: string;
  owner?: string;
  purpose?: string;
  impact?: string;
  lastRun?: string;
  lastOutcome?: string;
  /** Set when discovery could not reach a source: the tables are the listed ones only. */
  discoveryError?: string;
  tables: InventoryTable[];
}

/** How far back the last run of each table is looked for. */
const LOOKBACK_DAYS = 35;

/** The newest table sync of each table of the pipeline, from visibility (search attributes). */
async function lastTableRuns(client: Client, config: LoadedConfig['config'], pipeline: string) {
  const since = new Date(Date.now() - LOOKBACK_DAYS * 86_400_000).toISOString();
  const query = `WorkflowType = 'tableSync' AND ${searchAttributes.pipeline.name} = '${pipeline}' AND StartTime > '${since}'`;
  const latest = new Map<string, { at: Date; outcome: string; link: string }>();
  for await (const wf of client.workflow.list({ query })) {
    const table = wf.typedSearchAttributes.get(searchAttributes.table) ?? '';
    const outcome = wf.typedSearchAttributes.get(searchAttributes.outcome) ?? wf.status.name.toLowerCase();
    const seen = latest.get(table);
    if (!seen || seen.at < wf.startTime) latest.set(table, { at: wf.startTime, outcome, link: webUiLink(config.temporal, wf.workflowId, wf.runId) });
  }
  return latest;
}

/** The tables a pipeline syncs: discovered (as a run would) or, when a source is unreachable, the listed ones. */
async function pipelineTables(loaded: LoadedConfig, pipeline: string) {
  try {
    return { tables: (await planPipeline(loaded, pipeline)).tables };
  } catch (err) {
    const { config } = loaded;
    const tables = config.pipelines[pipeline].sources.flatMap((s) =>
      (config.sources[s].tables ?? []).map((entry) => {
        const settings = mergedTableSettings(config.sources[s], entry);
        return { ...settings, key: `${s}.${tableName(entry)}`, mode: settings.mode ?? 'replace' };
      }),
    );
    return { tables, discoveryError: (err as Error).message };
  }
}

export async function buildInventory(loaded: LoadedConfig): Promise<InventoryPipeline[]> {
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    const out: InventoryPipeline[] = [];
    for (const [name, p] of Object.entries(config.pipelines)) {
      const { tables, discoveryError } = await pipelineTables(loaded, name);
      const last = await lastTableRuns(client, config, name);
      const [lastRun] = await listRuns(client, config, name, 1);
      out.push({
        pipeline: name,
        schedule: p.schedule ? describeSchedule(p.schedule) : 'none (runs by hand: bqsync run)',
        owner: p.owner,
        purpose: p.description,
        impact: p.impact,
        lastRun: lastRun?.startedAt,
        lastOutcome: lastRun?.status,
        discoveryError,
        tables: tables
          .map((t) => ({
            key: t.key,
            mode: t.mode,
            // A table without its own owner belongs to its source's owner.
            owner: t.owner ?? config.sources[t.key.split('.')[0]]?.owner,
            purpose: t.description,
            impact: t.impact,
            lastRun: last.get(t.key)?.at.toISOString(),
            lastOutcome: last.get(t.key)?.outcome,
            link: last.get(t.key)?.link,
          }))
          .sort((a, b) => a.key.localeCompare(b.key)),
      });
    }
    return out;
  } finally {
    await client.connection.close();
  }
}

const cell = (v: string | undefined) => (v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function inventoryMarkdown(inventory: InventoryPipeline[]): string {
  const lines: string[] = ['# bqsync inventory', ''];
  for (const p of inventory) {
    lines.push(`## Pipeline \`${p.pipeline}\``, '');
    lines.push(`- Schedule: ${p.schedule}`);
    if (p.purpose) lines.push(`- Purpose: ${p.purpose}`);
    if (p.owner) lines.push(`- Owner: ${p.owner}`);
    if (p.impact) lines.push(`- When it stops: ${p.impact}`);
    lines.push(`- Last run: ${p.lastRun ? `${p.lastRun} (${p.lastOutcome})` : 'never'}`);
    if (p.discoveryError) lines.push(`- Listed tables only; discovery failed: ${p.discoveryError}`);
    lines.push('', '| Table | Mode | Owner | Purpose | Impact when stopped | Last run | Last outcome |', '|---|---|---|---|---|---|---|');
    for (const t of p.tables) {
      lines.push(`| ${[t.key, t.mode, t.owner, t.purpose, t.impact, t.lastRun ?? 'never', t.lastOutcome].map(cell).join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function inventoryText(inventory: InventoryPipeline[]): string {
  const lines: string[] = [];
  for (const p of inventory) {
    lines.push(`pipeline ${p.pipeline}: ${p.schedule}; last run ${p.lastRun ? `${p.lastRun} ${p.lastOutcome}` : 'never'}`);
    for (const [label, v] of [['purpose', p.purpose], ['owner', p.owner], ['if it stops', p.impact]] as const) {
      if (v) lines.push(`  ${label}: ${v}`);
    }
    if (p.discoveryError) lines.push(`  (listed tables only; discovery failed: ${p.discoveryError})`);
    for (const t of p.tables) {
      lines.push(`  ${t.key}  ${t.mode}  last ${t.lastRun ? `${t.lastRun} ${t.lastOutcome}` : 'never'}${t.owner ? `  owner ${t.owner}` : ''}`);
      if (t.purpose) lines.push(`    what: ${t.purpose}`);
      if (t.impact) lines.push(`    if it stops: ${t.impact}`);
    }
  }
  return lines.join('\n');
}

export async function inventoryCommand(loaded: LoadedConfig, format: 'text' | 'markdown' | 'json'): Promise<number> {
  const inventory = await buildInventory(loaded);
  console.log(format === 'json' ? JSON.stringify(inventory, null, 2) : format === 'markdown' ? inventoryMarkdown(inventory) : inventoryText(inventory));
  return 0;
}
