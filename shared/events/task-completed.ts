/**
 * The `ecs:CloudAssistant:TaskCompleted` event: a per-instance payload in the CloudEvents envelope
 * EventBridge delivers it in (shared/runtime/envelopes/). Only six `data` fields are documented;
 * the rest are optional and everything unknown is kept, because the platform may add fields.
 * @see docs/platform-facts.md §1.2–1.3
 */
import { z } from 'zod';
import { INSTANCE_STATUSES } from '../cloud-assistant/statuses.ts';
import type { CloudEvent } from '../runtime/envelopes/cloud-event.ts';
import { eventBridgeEnvelope } from '../runtime/envelopes/eventbridge.ts';

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

/** The event as EventBridge delivers it to task-events: a CloudEvent from `acs.ecs` with this data. */
export const taskCompletedEnvelope = eventBridgeEnvelope({ source: 'acs.ecs', type: TASK_COMPLETED_TYPE, data: taskCompletedDataSchema });
export type TaskCompletedEvent = CloudEvent<TaskCompletedData>;

/**
 * Delivery is at-least-once: the same instance's final status may come several times. Within a
 * run an instance finishes once, so (command, instance) names the result; finishTime tells apart
 * the runs of a periodic task.
 */
export function dedupeKey(data: TaskCompletedData): string {
  return `${data.commandId}/${data.instanceId}/${data.finishTime ?? ''}`;
}
