import type { PipelineConfig } from './schema';
import { durationMs } from '../common/duration';
import { sessionValues, type SessionCadence, type SessionValues } from '../common/session-time';

/** The zone a pipeline's session dates are read in: its own, its schedule's, or UTC. */
export function pipelineTimeZone(pipeline: PipelineConfig): string {
  return pipeline.timezone ?? pipeline.schedule?.timezone ?? 'UTC';
}

/** How the pipeline's sessions follow each other: its schedule, or daily when it has none. */
export function pipelineCadence(pipeline: PipelineConfig): SessionCadence {
  const s = pipeline.schedule;
  if (s?.cron) return { cron: s.cron };
  if (s?.every) return { everyMs: durationMs(String(s.every)) };
  return undefined;
}

/** The session values of one run of the pipeline. */
export function pipelineSessionValues(pipeline: PipelineConfig, sessionIso: string): SessionValues {
  return sessionValues(sessionIso, pipelineTimeZone(pipeline), pipelineCadence(pipeline));
}
