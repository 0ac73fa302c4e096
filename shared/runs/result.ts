/**
 * One instance's result within a run: what task-events sends through the queue and summarize
 * stores. Output is the redacted tail; a full output larger than a queue message fits is in the
 * bucket under `outputKey`.
 */
import { z } from 'zod';
import { INSTANCE_STATUSES } from '../cloud-assistant/statuses.ts';
import { RUN_ID } from './keys.ts';

/** Instance ids become object keys: only what ECS ids look like is accepted. */
export const INSTANCE_ID = /^i-[A-Za-z0-9]{1,60}$/;

export const instanceResultSchema = z.object({
  version: z.literal(1),
  runId: z.string().regex(RUN_ID),
  invokeId: z.string().default(''),
  commandId: z.string(),
  instanceId: z.string().regex(INSTANCE_ID),
  status: z.enum(INSTANCE_STATUSES),
  exitCode: z.number().int(),
  errorCode: z.string().default(''),
  errorInfo: z.string().default(''),
  startTime: z.string().optional(),
  finishTime: z.string().optional(),
  /** The output's tail, secrets redacted. */
  output: z.string(),
  /** Bytes of the whole output (what the service kept plus what it dropped). */
  outputBytes: z.number().int().nonnegative(),
  /** The whole (redacted) output in the bucket, when it did not fit the message. */
  outputKey: z.string().optional(),
  /** Which path produced it: the event pipeline or the reconciler. */
  source: z.enum(['event', 'reconciler']),
});
export type InstanceResult = z.output<typeof instanceResultSchema>;

export function durationMs(r: Pick<InstanceResult, 'startTime' | 'finishTime'>): number | undefined {
  if (!r.startTime || !r.finishTime) return undefined;
  const d = Date.parse(r.finishTime) - Date.parse(r.startTime);
  return Number.isFinite(d) && d >= 0 ? d : undefined;
}
