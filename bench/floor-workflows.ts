/**
 * The least a run of child workflows can be on Temporal (bench/temporal-floor.ts): a parent
 * starts one child per table under per-source and per-run limits, and each child runs one
 * activity that waits. No discovery, no write lock, no search attributes, no summaries.
 */
import { condition, executeChild, proxyActivities } from '@temporalio/workflow';

export interface FloorActivities {
  standIn(ms: number): Promise<void>;
}

export interface FloorRunInput {
  tables: { source: string; name: string }[];
  perSource: number;
  perRun: number;
  activityMs: number;
}

/** One table: one activity, as a table sync's data activity. */
export async function floorTable(ms: number): Promise<void> {
  const { standIn } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10 minutes' });
  await standIn(ms);
}

/** Every table as a child, up to `perSource` of a source and `perRun` in all at once, in order. */
export async function floorRun(input: FloorRunInput): Promise<void> {
  const bySource = new Map<string, string[]>();
  for (const t of input.tables) bySource.set(t.source, [...(bySource.get(t.source) ?? []), t.name]);
  let running = 0;
  const lane = async (source: string, names: string[]): Promise<void> => {
    for (let name = names.shift(); name !== undefined; name = names.shift()) {
      await condition(() => running < input.perRun);
      running++;
      try {
        // IDs end in "<source>.<table>", as a table sync's do: bench/overhead.ts reads the source there.
        await executeChild(floorTable, { workflowId: `floor.${source}.${name}`, args: [input.activityMs] });
      } finally {
        running--;
      }
    }
  };
  await Promise.all([...bySource].flatMap(([source, names]) => Array.from({ length: input.perSource }, () => lane(source, names))));
}
