import { z } from 'zod';

/**
 * Where a pipeline reports a failed run. The webhook URL is a secret (anyone holding it can
 * post to the channel), so the config names the environment variable that holds it, never
 * the URL: it is read by the worker's notify activity and stays out of files and history.
 */
export const notifySchema = z.strictObject({
  /** Environment variable holding a Slack-compatible incoming-webhook URL. */
  webhookUrlEnv: z
    .string()
    .regex(
      /^[A-Z_][A-Z0-9_]*$/,
      'the name of an environment variable that holds the webhook URL (e.g. BQSYNC_SLACK_WEBHOOK_URL), never the URL itself',
    ),
});

export type NotifyConfig = z.infer<typeof notifySchema>;
