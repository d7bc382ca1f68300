import type { LoadedConfig } from '../config/load';
import type { Config } from '../config/schema';
import { webUiLink } from '../common/web-ui';
import type { NodeResult, RunSummary } from '../common/payloads';
import { configFailure, failure } from '../common/failures';

export interface NotifyFailureInput {
  pipeline: string;
  workflowId: string;
  runId: string;
  summary: RunSummary;
}

export interface NotifyFailureResult {
  sent: boolean;
  /** Why nothing was sent (no notify: in the config). */
  reason?: string;
}

/** Failed tables named in one message; the rest are counted (Slack allows 50 blocks). */
const MAX_LISTED = 20;
/** Slack's limit for a section's text. */
const MAX_SECTION_TEXT = 3000;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The Slack-compatible message for a failed run: a plain text and blocks, one per failed node. */
export function failureMessage(config: Config, input: NotifyFailureInput): { text: string; blocks: object[] } {
  const { summary } = input;
  const failed = summary.results.filter((r) => r.status === 'failed');
  const runLink = webUiLink(config.temporal, input.workflowId, input.runId);
  const text =
    `bqsync: pipeline ${input.pipeline} failed: ${failed.length} of ${summary.results.length} tables/steps failed ` +
    `(${summary.succeeded} succeeded, ${summary.skipped} skipped): ${failed.map((r) => r.key).join(', ')}`;
  const section = (md: string) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(md, MAX_SECTION_TEXT) } });
  const blocks: object[] = [
    section(
      `:red_circle: *bqsync pipeline \`${input.pipeline}\` failed*: ${failed.length} failed, ` +
        `${summary.succeeded} succeeded, ${summary.skipped} skipped. <${runLink}|Open the run in the Temporal Web UI>`,
    ),
    ...failed.slice(0, MAX_LISTED).map((r: NodeResult) =>
      section(
        `*${r.key}* (${r.errorType ?? 'Error'})\n${clip(r.error ?? 'no message', 2000)}` +
          (r.workflowId ? `\n<${webUiLink(config.temporal, r.workflowId)}|Web UI: ${r.workflowId}>` : ''),
      ),
    ),
  ];
  if (failed.length > MAX_LISTED) blocks.push(section(`…and ${failed.length - MAX_LISTED} more; see \`bqsync failures\`.`));
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: 'Re-run the failed tables after the fix: `bqsync retry last --failed` ' + `(pipeline ${input.pipeline})` }],
  });
  return { text, blocks };
}

/** Posts a failed run to the pipeline's webhook. */
export function makeNotifyFailure(loaded: LoadedConfig) {
  return async function notifyFailure(input: NotifyFailureInput): Promise<NotifyFailureResult> {
    return postToWebhook(loaded, input.pipeline, failureMessage(loaded.config, input));
  };
}

export interface NotifyLateInput {
  pipeline: string;
  workflowId: string;
  runId: string;
  /** The run's state when its deadline passed. */
  summary: RunSummary;
}

/** The Slack-compatible message for a run past its deadline: what still runs or waits, and for how long the run has gone. */
export function lateMessage(config: Config, input: NotifyLateInput): { text: string; blocks: object[] } {
  const { summary } = input;
  const late = summary.late!;
  const open = summary.results.filter((r) => r.status === 'running' || r.status === 'queued' || r.status === 'waiting');
  const running = open.filter((r) => r.status === 'running').map((r) => r.key);
  const waiting = open.filter((r) => r.status !== 'running').map((r) => r.key);
  const took = formatElapsed(Date.parse(late.notedAt) - Date.parse(summary.startedAt));
  const list = (keys: string[]) => (keys.length === 0 ? 'none' : keys.slice(0, MAX_LISTED).join(', ') + (keys.length > MAX_LISTED ? ` and ${keys.length - MAX_LISTED} more` : ''));
  const runLink = webUiLink(config.temporal, input.workflowId, input.runId);
  const text =
    `bqsync: pipeline ${input.pipeline} is late: its deadline (${late.rule}, ${late.deadline}) passed after ${took} with ` +
    `${running.length} tables/steps running (${list(running)}) and ${waiting.length} waiting (${list(waiting)}); ` +
    `${summary.succeeded} succeeded, ${summary.failed} failed so far`;
  const section = (md: string) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(md, MAX_SECTION_TEXT) } });
  return {
    text,
    blocks: [
      section(`:hourglass: *bqsync pipeline \`${input.pipeline}\` is late*: deadline ${late.rule} (${late.deadline}) passed; running for ${took}. <${runLink}|Open the run in the Temporal Web UI>`),
      section(`*Running*: ${list(running)}\n*Waiting*: ${list(waiting)}\n${summary.succeeded} succeeded, ${summary.failed} failed so far`),
    ],
  };
}

function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** Posts a run that passed its deadline to the pipeline's webhook, once (the workflow calls it once). */
export function makeNotifyLate(loaded: LoadedConfig) {
  return async function notifyLate(input: NotifyLateInput): Promise<NotifyFailureResult> {
    return postToWebhook(loaded, input.pipeline, lateMessage(loaded.config, input));
  };
}

/**
 * Posts a message to the pipeline's webhook. The URL is read here, in the worker, from
 * the environment variable the config names: it never enters the workflow's input or
 * history. An unreachable endpoint or a 5xx/429 answer is retried with backoff by
 * Temporal; another 4xx means the URL is wrong, which a retry cannot fix.
 */
async function postToWebhook(loaded: LoadedConfig, pipeline: string, payload: object): Promise<NotifyFailureResult> {
  const notify = loaded.config.pipelines[pipeline]?.notify;
  if (!notify) return { sent: false, reason: `pipeline ${pipeline} has no notify: in ${loaded.file}` };
  const variable = notify.webhookUrlEnv;
  const url = process.env[variable];
  if (!url) {
    throw configFailure(
      `${loaded.file}: pipelines.${pipeline}.notify names ${variable}, but it is not set in the worker's environment; ` +
        'set it to the webhook URL (from your secret store)',
    );
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    // The URL stays out of the message: it is a secret.
    throw new Error(`the webhook in ${variable} could not be reached: ${(err as Error).cause ?? (err as Error).message}`);
  }
  await response.text().catch(() => '');
  if (response.ok) return { sent: true };
  const message = `the webhook in ${variable} answered HTTP ${response.status}`;
  if (response.status >= 500 || response.status === 429 || response.status === 408) throw new Error(message);
  throw failure('WebhookRejected', `${message}; check the URL in ${variable}`);
}
