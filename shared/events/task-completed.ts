/**
 * The `ecs:CloudAssistant:TaskCompleted` event as EventBridge delivers it: a CloudEvents envelope
 * and a per-instance payload. Only six `data` fields are documented; the rest are optional and
 * everything unknown is kept, because the platform may add fields.
 * @see docs/platform-facts.md §1.2–1.3
 */
import { z } from 'zod';
import { INSTANCE_STATUSES } from '../cloud-assistant/statuses.ts';

export const TASK_COMPLETED_TYPE = 'ecs:CloudAssistant:TaskCompleted';

/** The payload: camelCase, `exitCode` a string in the sample (a number is accepted too). */
export const taskCompletedDataSchema = z.looseObject({
  commandId: z.string().min(1),
  commandName: z.string().default(''),
  exitCode: z.union([z.string().regex(/^-?\d+$/), z.number().int()]).transform(Number).optional(),
  finishTime: z.string().optional(),
  instanceId: z.string().min(1),
  invocationStatus: z.enum(INSTANCE_STATUSES),
  invokeId: z.string().optional(),
  startTime: z.string().optional(),
  repeatMode: z.string().optional(),
  regionId: z.string().optional(),
  errorCode: z.string().optional(),
  errorInfo: z.string().optional(),
});
export type TaskCompletedData = z.output<typeof taskCompletedDataSchema>;

/** The CloudEvents envelope EventBridge wraps every event in. */
export const cloudEventSchema = z.looseObject({
  id: z.string().min(1),
  source: z.string(),
  specversion: z.string().optional(),
  type: z.string(),
  subject: z.string().optional(),
  time: z.string().optional(),
  aliyunaccountid: z.string().optional(),
  aliyunregionid: z.string().optional(),
  data: z.unknown(),
});

export const taskCompletedEventSchema = cloudEventSchema.extend({
  source: z.literal('acs.ecs'),
  type: z.literal(TASK_COMPLETED_TYPE),
  data: taskCompletedDataSchema,
});
export type TaskCompletedEvent = z.output<typeof taskCompletedEventSchema>;

export type ParsedEvent = { ok: true; event: TaskCompletedEvent } | { ok: false; reason: string };

/** Parses one event; a malformed one gets a reason a log line can carry, never a throw. */
export function parseTaskCompleted(raw: unknown): ParsedEvent {
  const result = taskCompletedEventSchema.safeParse(raw);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || '(event)'}: ${issue.message}` };
}

/**
 * Delivery is at-least-once: the same instance's final status may come several times. Within a
 * run an instance finishes once, so (command, instance) names the result; finishTime tells apart
 * the runs of a periodic task.
 */
export function dedupeKey(data: TaskCompletedData): string {
  return `${data.commandId}/${data.instanceId}/${data.finishTime ?? ''}`;
}
