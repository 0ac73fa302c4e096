/**
 * A run request, in the one shape every part of fleetrun passes it on: what to run, where, how
 * fast, who asked and where to reply. The catalog builds it (build-run-spec.ts), chatops checks it
 * and hands it to dispatch inside its dispatch request, dispatch and startRun take it as it is, and
 * the schedule tick builds it the same way for a timer job. Whatever this schema accepts, startRun
 * can start: its fields are held to what the manifest (manifest.ts) requires of them.
 */
import { z } from 'zod';
import { COMMAND_TYPES, TERMINATION_MODES } from '../cloud-assistant/constants.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import { countOrPercentSchema } from './count-or-percent.ts';
import { RUN_ID } from './keys.ts';
import { outputGroupingSchema } from './output-normalise.ts';
import { replyTargetSchema } from './reply-target.ts';
import { sealedSecretsSchema } from './sealed-secrets.ts';

/** Who asked for a run. */
export const requestedBySchema = z.object({
  kind: z.enum(['chat', 'schedule', 'cli', 'api']),
  user: z.string().optional(),
  channel: z.string().optional(),
});

/** Instance ids, or tags all of which must match. */
export const targetsSchema = z.union([
  z.object({ instanceIds: z.array(z.string().min(1)).min(1, 'name at least one instance') }),
  // An empty tag filter would select every instance in the region; that must be written out, not implied.
  z.object({ tags: z.record(z.string().min(1), z.string()).refine((t) => Object.keys(t).length > 0, 'name at least one tag') }),
]);
const sameTargets: [z.output<typeof targetsSchema>] extends [Targets] ? true : false = true;
void sameTargets;

/**
 * What Cloud Assistant runs. Secret parameter values never travel in clear: `parameters` holds the
 * others, `secretParameters` the secret ones' names and `sealedSecrets` their values (sealed-secrets.ts).
 */
export const runCommandSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(COMMAND_TYPES),
    script: z.string().min(1),
    timeoutSeconds: z.number().int().positive(),
    parameters: z.record(z.string(), z.string()).default({}),
    secretParameters: z.array(z.string().min(1)).default([]),
    sealedSecrets: sealedSecretsSchema.optional(),
    workingDir: z.string().optional(),
    username: z.string().optional(),
    terminationMode: z.enum(TERMINATION_MODES).optional(),
    /** The catalog entry's output grouping rules: the run is summarized with the rules it started with, whatever the catalog says later. */
    group: outputGroupingSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.secretParameters.length > 0 && c.sealedSecrets === undefined)
      ctx.addIssue({ code: 'custom', path: ['sealedSecrets'], message: 'secret parameters need their values sealed' });
    if (c.secretParameters.length === 0 && c.sealedSecrets !== undefined)
      ctx.addIssue({ code: 'custom', path: ['secretParameters'], message: 'sealed values need the names of their secret parameters' });
    for (const name of c.secretParameters)
      if (Object.hasOwn(c.parameters, name)) ctx.addIssue({ code: 'custom', path: ['parameters', name], message: 'a secret parameter travels only sealed' });
  });

export const runSpecSchema = z.object({
  command: runCommandSchema,
  targets: targetsSchema,
  /** Instances running at once. */
  maxConcurrency: countOrPercentSchema.optional(),
  /** Stop sending once more than this many instances failed. */
  maxErrors: countOrPercentSchema.optional(),
  requestedBy: requestedBySchema,
  replyTo: replyTargetSchema.optional(),
  /** The run this one retries (retry-spec.ts): the manifest and summary keep it. */
  retryOf: z.string().regex(RUN_ID).optional(),
});

export type RunSpec = z.output<typeof runSpecSchema>;
export type RunSpecInput = z.input<typeof runSpecSchema>;
export type RunCommand = RunSpec['command'];
