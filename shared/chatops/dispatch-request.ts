/**
 * What chatops hands to the dispatch function (an asynchronous FC invoke): a run to start or a run
 * to stop, and where to reply. Secret parameter values travel sealed, never in clear, since FC
 * keeps async payloads.
 */
import { z } from 'zod';
import { COMMAND_TYPES, TERMINATION_MODES } from '../cloud-assistant/constants.ts';
import { RUN_ID } from '../runs/keys.ts';

const countOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/).transform((s) => s as `${number}%`)]);
const targets = z.union([z.object({ instanceIds: z.array(z.string()).min(1) }), z.object({ tags: z.record(z.string(), z.string()) })]);
const requestedBy = z.object({ kind: z.enum(['chat', 'schedule', 'cli', 'api']), user: z.string().optional(), channel: z.string().optional() });

export const dispatchRequestSchema = z.discriminatedUnion('kind', [
  z.object({
    version: z.literal(1),
    kind: z.literal('run'),
    runId: z.string().regex(RUN_ID),
    requestedBy,
    replyTo: z.unknown().optional(),
    /** Who asked, for the dispatch-time policy check on the resolved target count. */
    requester: z.object({ platform: z.string(), userId: z.string(), channelId: z.string().optional() }).optional(),
    command: z.object({
      name: z.string(),
      type: z.enum(COMMAND_TYPES),
      script: z.string(),
      timeoutSeconds: z.number().int(),
      parameters: z.record(z.string(), z.string()).default({}),
      secretParameters: z.array(z.string()).default([]),
      /** seal() of [JSON.stringify({ parameters: {name: value}, secretValues: [...] })]. */
      sealedSecrets: z.string().optional(),
      workingDir: z.string().optional(),
      username: z.string().optional(),
      terminationMode: z.enum(TERMINATION_MODES).optional(),
    }),
    targets,
    maxConcurrency: countOrPercent.optional(),
    maxErrors: countOrPercent.optional(),
  }),
  z.object({ version: z.literal(1), kind: z.literal('stop'), runId: z.string().regex(RUN_ID), requestedBy, replyTo: z.unknown().optional() }),
]);
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;
export type DispatchRequestInput = z.input<typeof dispatchRequestSchema>;

/** Hands a request to the dispatch function without waiting for it. */
export interface Dispatcher {
  dispatch(request: DispatchRequest): Promise<void>;
}
