/**
 * A run's manifest: who asked for what, on which instances, under which InvokeIds, where output
 * goes and where to reply. Written to the bucket before the first command is sent, so every later
 * step (events, summaries, the reconciler) can find it.
 */
import { z } from 'zod';
import { COMMAND_TYPES } from '../cloud-assistant/constants.ts';
import { RUN_ID } from './keys.ts';
import { outputGroupingSchema } from './output-normalise.ts';
import { replyTargetSchema } from './reply-target.ts';
import { requestedBySchema } from './run-spec.ts';
import { sealedSecretsSchema } from './sealed-secrets.ts';

/** Why a target never got the command; `StopRequested`: the run was stopped before it was sent. */
export const SKIP_REASONS = ['InstanceNotExists', 'InstanceNotRunning', 'ClientNotRunning', 'NotDispatched', 'DispatchFailed', 'StopRequested'] as const;

export const runManifestSchema = z.object({
  version: z.literal(1),
  runId: z.string().regex(RUN_ID),
  createdAt: z.iso.datetime(),
  requestedBy: requestedBySchema,
  command: z.object({
    name: z.string().min(1),
    type: z.enum(COMMAND_TYPES),
    timeoutSeconds: z.number().int().positive(),
    /** The catalog entry's output grouping rules as the run started: summarize groups by these (output-groups.ts). */
    group: outputGroupingSchema.optional(),
  }),
  /** Every instance the run is about: dispatched or set aside. A summary is complete when each has a result. */
  targets: z.array(z.string().min(1)),
  /** The tags the targets were chosen by (every one of them has all of these); absent: the run named its instances by id. */
  targetTags: z.record(z.string(), z.string()).optional(),
  /** Each target's name, as DescribeInstances gave it when the run started (at most 128 characters, ECS's own maximum); targets without one are left out. */
  instanceNames: z.record(z.string(), z.string()).default({}),
  /** Targets that never got the command, and why; they count in the summary as not run. */
  skipped: z.array(z.object({ instanceId: z.string(), reason: z.enum(SKIP_REASONS) })).default([]),
  /**
   * The calls that went out, with their InvokeIds. While the fan-out is open each call is recorded
   * under the run's fan-out log the moment it is sent (fan-out.ts) and listed here once it ends.
   * `sentAt`: when the call was made; a later wave's results are due its timeout after that.
   */
  invocations: z.array(z.object({ invokeId: z.string(), commandId: z.string(), instanceIds: z.array(z.string()), sentAt: z.iso.datetime().optional() })).default([]),
  /**
   * `open` while batches are still to be sent or recorded (a concurrency-limited run sends its next
   * wave as results come in): the run cannot be complete then, since `skipped` does not yet name
   * what the fan-out will leave unsent. `done` once every batch is decided and recorded, and this
   * manifest lists them all. Manifests from before the fan-out log are done.
   */
  fanOut: z.enum(['open', 'done']).default('done'),
  /** Instances running at once (the run's maxConcurrency as a count); absent: every batch went at once. */
  maxConcurrency: z.number().int().positive().optional(),
  output: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('oss'), bucket: z.string(), prefix: z.string() }),
    z.object({ mode: z.literal('fetch') }),
  ]),
  /** Names of parameters whose values must never be shown. */
  secretParameters: z.array(z.string()).default([]),
  /** Their values, sealed once as the run was asked for (sealed-secrets.ts); never stored in clear. */
  sealedSecrets: sealedSecretsSchema.optional(),
  /** Where the chat replies go. */
  replyTo: replyTargetSchema.optional(),
  /** The run this one retries (`retry <run>`); its summary links back to that run, and that run's to this one. */
  retryOf: z.string().regex(RUN_ID).optional(),
});
export type RunManifest = z.output<typeof runManifestSchema>;
export type RunManifestInput = z.input<typeof runManifestSchema>;

const expectedOf = new WeakMap<RunManifest, ReadonlySet<string>>();

/** The instances that must report before the run is complete (computed once per manifest read: a run may have 10,000). */
export function expectedInstances(manifest: RunManifest): ReadonlySet<string> {
  let expected = expectedOf.get(manifest);
  if (!expected) {
    const skipped = new Set(manifest.skipped.map((s) => s.instanceId));
    expected = new Set(manifest.targets.filter((t) => !skipped.has(t)));
    expectedOf.set(manifest, expected);
  }
  return expected;
}

/** The run's deadline: its timeout after creation, plus a grace for delivery. */
export function runDeadline(manifest: RunManifest, graceSeconds: number): Date {
  return new Date(Date.parse(manifest.createdAt) + (manifest.command.timeoutSeconds + graceSeconds) * 1000);
}
