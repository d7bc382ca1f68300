import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config/schema';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { searchAttributeNames } from '../common/search-attributes';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace });
}


/**
 * Registers bqsync's search attributes when the server lacks them (a self-hosted or dev
 * server). On Temporal Cloud they are added through its console or tcld instead.
 */
export async function ensureSearchAttributes(client: Client, config: Config): Promise<void> {
  const ops = client.connection.operatorService;
  const { customAttributes } = await ops.listSearchAttributes({ namespace: config.temporal.namespace });
  const missing = searchAttributeNames.filter((n) => !(customAttributes && n in customAttributes));
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(missing.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]));
  await ops.addSearchAttributes({ namespace: config.temporal.namespace, searchAttributes });
}

/** A run waits silently when no worker polls its queue; say so where the operator looks. */
export async function warnIfNoWorker(client: Client, config: Config): Promise<void> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if (!pollers?.length) {
      console.error(
        `warning: no worker polls task queue "${config.temporal.taskQueue}" on ${config.temporal.address}; ` +
          'the run waits until one starts (bqsync worker)',
      );
    }
  } catch {
    // Only a hint: never fail a run because of it.
  }
}
