/**
 * What chatops hands to the dispatch function (an asynchronous FC invoke): a run to start — its
 * RunSpec as the catalog built it, secrets sealed, never in clear, since FC keeps async payloads —
 * or a run to stop, and where to reply. The same record is kept as the run's pending-dispatch
 * record until dispatch has started it. chatops parses what it hands over with this schema, so a
 * request dispatch would refuse is refused in chat at once instead.
 */
import { z } from 'zod';
import { RUN_ID } from '../runs/keys.ts';
import { replyTargetSchema } from '../runs/reply-target.ts';
import { requestedBySchema, runSpecSchema, targetsSchema } from '../runs/run-spec.ts';

export const dispatchRequestSchema = z.discriminatedUnion('kind', [
  runSpecSchema.extend({
    version: z.literal(1),
    kind: z.literal('run'),
    runId: z.string().regex(RUN_ID),
    /** Who asked, for the dispatch-time policy check on the resolved target count. */
    requester: z.object({ platform: z.string(), userId: z.string(), channelId: z.string().optional() }).optional(),
    /**
     * The targets the policy judged the run by, when they are not its own: a retry runs on instance
     * ids, and is judged as part of the run it retries, on that run's targets as asked (its tags);
     * dispatch checks each instance still has them (dispatch-run.ts).
     */
    policyTargets: targetsSchema.optional(),
  }),
  z.object({ version: z.literal(1), kind: z.literal('stop'), runId: z.string().regex(RUN_ID), requestedBy: requestedBySchema, replyTo: replyTargetSchema.optional() }),
]);
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;
export type DispatchRequestInput = z.input<typeof dispatchRequestSchema>;

/** Hands a request to the dispatch function without waiting for it. */
export interface Dispatcher {
  dispatch(request: DispatchRequest): Promise<void>;
}
