/**
 * The fan-out's records, as data (how they are written and read: pipeline/fan-out.ts). A run's
 * plan says what goes in which batch and under what limits; its log holds one decision per batch
 * position — the batch goes, or the fan-out ends before it — and, per batch sent, where it went.
 * Every record is written once and never changed, so any reader may keep what it read.
 */
import { z } from 'zod';
import { RUN_ID } from './keys.ts';
import { runCommandSchema } from './run-spec.ts';

/** Written before the manifest: with it, whoever holds the seal key can send any batch as the first sender would have. */
export const fanOutPlanSchema = z.object({
  version: z.literal(1),
  runId: z.string().regex(RUN_ID),
  /** The command as the run was asked for (secret values sealed, as in the manifest). */
  command: runCommandSchema,
  /** Batch n's instances, in order: ≤100 each (RunCommand), and no more than maxConcurrency. */
  batches: z.array(z.array(z.string().min(1)).min(1)),
  /** Instances running at once; absent: every batch is due at once. */
  maxConcurrency: z.number().int().positive().optional(),
  /** The fan-out ends once more instances than this have failed; absent: never. */
  maxErrors: z.number().int().nonnegative().optional(),
});
export type FanOutPlan = z.output<typeof fanOutPlanSchema>;

/** Why a fan-out ended with batches left unsent. */
export const FAN_OUT_END_REASONS = ['max-errors', 'stop-requested'] as const;

export const fanOutDecisionSchema = z.discriminatedUnion('kind', [
  z.object({ version: z.literal(1), kind: z.literal('send'), batch: z.number().int().nonnegative(), decidedAt: z.iso.datetime() }),
  /** Batches `from` onwards are never sent. */
  z.object({ version: z.literal(1), kind: z.literal('end'), from: z.number().int().nonnegative(), reason: z.enum(FAN_OUT_END_REASONS), decidedAt: z.iso.datetime() }),
]);
export type FanOutDecision = z.output<typeof fanOutDecisionSchema>;

export const sentBatchRecordSchema = z.object({
  version: z.literal(1),
  batch: z.number().int().nonnegative(),
  /** When the call was made (its first round). */
  sentAt: z.iso.datetime(),
  /** The instances the call went to: the batch, less any set aside when the service refused it for them. */
  instanceIds: z.array(z.string()),
  invokeId: z.string().optional(),
  commandId: z.string().optional(),
  /** The call failed for good: its instances never got the command. The message is redacted. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  setAside: z.array(z.object({ instanceId: z.string(), reason: z.enum(['InstanceNotExists', 'InstanceNotRunning', 'ClientNotRunning']) })).default([]),
});
export type SentBatchRecord = z.output<typeof sentBatchRecordSchema>;
