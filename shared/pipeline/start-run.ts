/**
 * Starting a run: resolve the targets, write the plan and then the manifest (before any command is
 * sent, so every event can find its run), and send what is due at once — every batch, or a
 * concurrency-limited run's first wave — recording each call as it answers (fan-out.ts). Later
 * waves are sent by whoever sees results come in; nothing here waits for them. Used by chat, the
 * scheduler and the dispatch function alike.
 */
import { randomBytes } from 'node:crypto';
import { resolveCount } from '../cloud-assistant/dispatch.ts';
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { resolveTargets, type ResolvedTargets } from '../cloud-assistant/targets.ts';
import { runKeys } from '../runs/keys.ts';
import { fanOutPlanSchema, type FanOutPlan } from '../runs/fan-out.ts';
import { runManifestSchema, type RunManifest, type RunManifestInput } from '../runs/manifest.ts';
import { runSpecSchema, type RunSpec, type RunSpecInput } from '../runs/run-spec.ts';
import { openSecrets } from '../runs/sealed-secrets.ts';
import { redactorFor } from '../runtime/redaction.ts';
import { advanceFanOut, NOTHING_FINISHED, type FanOutDeps } from './fan-out.ts';
import { finishIfComplete, readManifest, type FinishDeps } from './finish-run.ts';
import { outputPrefixFor } from './output-sources.ts';
import { finishedInStore } from './stored-results.ts';

/** A run to start: its RunSpec as it was asked for, and what the caller already knows of it. */
export type StartRunRequest = RunSpecInput & {
  runId?: string;
  /** Targets already resolved by the caller (e.g. to check a policy on their number). */
  resolved?: ResolvedTargets;
};

/** The run's manifest as the caller just read it (undefined: there is none yet), so startRun need not read it again. */
export interface KnownManifest {
  manifest: RunManifest | undefined;
}

export interface StartRunDeps extends FinishDeps {
  assistant: CloudAssistant;
  regionId: string;
  /** With an output bucket, outputs are delivered there by Cloud Assistant (OssOutputDelivery) — except for runs with secret parameters. */
  outputBucket?: string | undefined;
  sealKey?: string | undefined;
}

/** `r-20261123t101500-1a2b3c`: sortable by time, unique, and safe in keys and ClientTokens. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}

export class RunRequestError extends Error {
  override readonly name = 'RunRequestError';
}

/** The batches of a fan-out: calls of ≤100 instances (RunCommand), none larger than maxConcurrency. */
export function planBatches(instanceIds: readonly string[], maxConcurrency: number | undefined): string[][] {
  const ids = [...new Set(instanceIds)];
  const size = Math.min(LIMITS.runCommandInstances, maxConcurrency ?? Number.POSITIVE_INFINITY);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  return batches;
}

export async function startRun(request: StartRunRequest, deps: StartRunDeps, known?: KnownManifest): Promise<RunManifest> {
  const runId = request.runId ?? newRunId();
  const checked = runSpecSchema.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new RunRequestError(`${issue.path.join('.') || 'the request'}: ${issue.message}`);
  }
  const spec = checked.data;
  const secretNames = spec.command.secretParameters;
  if (secretNames.length > 0 && !deps.sealKey) throw new RunRequestError('secret parameters need a seal key in the configuration');
  // The sealed values go into the plan and the manifest as they came; opened, they are only sent.
  // Whatever goes wrong from here is logged by a logger that knows them, and thrown redacted, since
  // callers log the error (and the schedule tick keeps it on the fire's marker) knowing nothing of the run.
  const secrets = spec.command.sealedSecrets ? openSecrets(spec.command.sealedSecrets, secretNames, deps.sealKey!).redact : [];
  const logger = deps.logger.withSecrets(secrets);
  try {
    return await startOpened(runId, spec, request.resolved, { ...deps, logger }, known);
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    logger.error('run failed to start', { runId, error: message });
    const redacted = redactorFor(secrets).redact(message);
    if (redacted === message) throw e;
    const safe = new Error(redacted);
    safe.name = (e as Error).name ?? 'Error';
    throw safe;
  }
}

async function startOpened(runId: string, spec: RunSpec, resolved: ResolvedTargets | undefined, deps: StartRunDeps, known?: KnownManifest): Promise<RunManifest> {
  const fanOutDeps: FanOutDeps = { ...deps, assistant: async () => deps.assistant };
  // A retried dispatch (FC retries async invocations) finds the run already started: its plan and
  // log are in the bucket, and it goes on from where they stand; the same ClientTokens give back
  // the same InvokeIds for a batch whose sender died before recording it.
  const existing = known ? known.manifest : await readManifest(deps.store, runId);
  if (existing) {
    const advanced = await advanceFanOut(existing, fanOutDeps, { finished: () => finishedInStore(deps.store, existing) });
    if (advanced.finalized) await finishIfComplete(advanced.manifest, deps);
    return advanced.manifest;
  }
  const targets = resolved ?? (await resolveTargets(deps.assistant, spec.targets));
  const runnable = targets.runnable;
  const maxConcurrency = spec.maxConcurrency === undefined ? undefined : Math.max(1, resolveCount(spec.maxConcurrency, runnable.length, runnable.length));
  const maxErrors = spec.maxErrors === undefined ? undefined : resolveCount(spec.maxErrors, runnable.length, runnable.length);
  const secretNames = spec.command.secretParameters;
  const draft: RunManifestInput = {
    version: 1,
    runId,
    createdAt: new Date().toISOString(),
    requestedBy: spec.requestedBy,
    command: {
      name: spec.command.name,
      type: spec.command.type,
      timeoutSeconds: spec.command.timeoutSeconds,
      ...(spec.command.group !== undefined ? { group: spec.command.group } : {}),
    },
    targets: [...runnable, ...targets.skipped.map((s) => s.instanceId)],
    ...('tags' in spec.targets ? { targetTags: spec.targets.tags } : {}),
    // Reports and replies show names: they are looked up here, once, with the targets.
    instanceNames: targets.names ?? {},
    skipped: targets.skipped,
    invocations: [],
    fanOut: 'open',
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    // Cloud Assistant writes delivered outputs as the script printed them, before fleetrun can
    // redact anything: a run with secret parameters has its outputs fetched instead, so a secret
    // the script echoes never lands in a bucket.
    output: deps.outputBucket && secretNames.length === 0 ? { mode: 'oss', bucket: deps.outputBucket, prefix: outputPrefixFor(runId) } : { mode: 'fetch' },
    secretParameters: secretNames,
    ...(spec.command.sealedSecrets ? { sealedSecrets: spec.command.sealedSecrets } : {}),
    ...(spec.replyTo !== undefined ? { replyTo: spec.replyTo } : {}),
    ...(spec.retryOf !== undefined ? { retryOf: spec.retryOf } : {}),
  };
  const manifest = runManifestSchema.parse(draft);
  const plan: FanOutPlan = fanOutPlanSchema.parse({
    version: 1,
    runId,
    command: spec.command,
    batches: planBatches(runnable, maxConcurrency),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(maxErrors !== undefined ? { maxErrors } : {}),
  });
  // The plan first: whoever finds the manifest finds the plan.
  await deps.store.put(runKeys.fanOutPlan(runId), JSON.stringify(plan), { contentType: 'application/json' });
  await deps.store.put(runKeys.manifest(runId), JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  await deps.store.put(runKeys.openMarker(runId), runId);
  // Nothing of a brand-new run is stored yet: what is due now is the first wave.
  const advanced = await advanceFanOut(manifest, fanOutDeps, { plan, finished: async () => NOTHING_FINISHED });
  // Everything may have finished (or been set aside) before the manifest was final: finish it here then.
  if (advanced.finalized) await finishIfComplete(advanced.manifest, deps);
  return advanced.manifest;
}

/**
 * StopInvocation for each of these calls of a run. One the stop request already reached, or that
 * has finished, may refuse; that is logged and the others are still stopped.
 */
export async function stopInvocations(runId: string, invocations: RunManifest['invocations'], deps: Pick<StartRunDeps, 'assistant' | 'regionId' | 'logger'>): Promise<void> {
  for (const inv of invocations) {
    await deps.assistant.stopInvocation({ RegionId: deps.regionId, InvokeId: inv.invokeId }).catch((e: unknown) => {
      deps.logger.warn('stop invocation failed', { runId, invokeId: inv.invokeId, error: (e as Error).message });
    });
  }
}
