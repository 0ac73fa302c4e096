/**
 * Starting a run: resolve the targets, write the manifest (before any command is sent, so every
 * event can find its run), fan the command out, then record the InvokeIds. Used by chat, the
 * scheduler and the dispatch function alike.
 */
import { randomBytes } from 'node:crypto';
import { dispatch, type CompletionFeed } from '../cloud-assistant/dispatch.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { resolveTargets, type ResolvedTargets } from '../cloud-assistant/targets.ts';
import { commandNameFor, runKeys } from '../runs/keys.ts';
import { runManifestSchema, type RunManifest, type RunManifestInput } from '../runs/manifest.ts';
import { runSpecSchema, type RunSpecInput } from '../runs/run-spec.ts';
import { openSecrets } from '../runs/sealed-secrets.ts';
import { finishIfComplete, readManifest, type FinishDeps } from './finish-run.ts';
import { outputBatchPrefix, outputPrefixFor } from './output-sources.ts';
import { isStopRequested, watchStopRequest } from './stop-request.ts';

/** A run to start: its RunSpec as it was asked for, and what the caller already knows of it. */
export type StartRunRequest = RunSpecInput & {
  runId?: string;
  /** Needed with maxConcurrency: tells dispatch when instances finish. */
  completions?: CompletionFeed;
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
  /** How often dispatch looks for a stop request while it fans out, in ms (default 1,000). */
  stopPollMs?: number;
}

/** `r-20261123t101500-1a2b3c`: sortable by time, unique, and safe in keys and ClientTokens. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}

export class RunRequestError extends Error {
  override readonly name = 'RunRequestError';
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
  // The sealed values go into the manifest as they came; opened, they are only sent.
  const secrets = spec.command.sealedSecrets ? openSecrets(spec.command.sealedSecrets, secretNames, deps.sealKey!) : undefined;
  const params = { ...spec.command.parameters, ...secrets?.parameters };

  // A retried dispatch (FC retries async invocations) finds the run already started: same manifest,
  // and, if it died mid-way, the same ClientTokens give back the same InvokeIds.
  const existing = known ? known.manifest : await readManifest(deps.store, runId);
  if (existing && existing.invocations.length > 0) return existing;
  const targets = request.resolved ?? (await resolveTargets(deps.assistant, spec.targets));
  const draft: RunManifestInput = {
    version: 1,
    runId,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
    requestedBy: spec.requestedBy,
    command: { name: spec.command.name, type: spec.command.type, timeoutSeconds: spec.command.timeoutSeconds },
    targets: [...targets.runnable, ...targets.skipped.map((s) => s.instanceId)],
    skipped: targets.skipped,
    invocations: [],
    // Cloud Assistant writes delivered outputs as the script printed them, before fleetrun can
    // redact anything: a run with secret parameters has its outputs fetched instead, so a secret
    // the script echoes never lands in a bucket.
    output: deps.outputBucket && secretNames.length === 0 ? { mode: 'oss', bucket: deps.outputBucket, prefix: outputPrefixFor(runId) } : { mode: 'fetch' },
    secretParameters: secretNames,
    ...(spec.command.sealedSecrets ? { sealedSecrets: spec.command.sealedSecrets } : {}),
    ...(spec.replyTo !== undefined ? { replyTo: spec.replyTo } : {}),
  };
  let manifest = runManifestSchema.parse(draft);
  await deps.store.put(runKeys.manifest(runId), JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  await deps.store.put(runKeys.openMarker(runId), runId);

  const hasParams = Object.keys(params).length > 0;
  const stopWatch = watchStopRequest(deps.store, runId, deps.stopPollMs);
  const result = await dispatch(deps.assistant, {
    runId,
    signal: stopWatch.signal,
    instanceIds: targets.runnable,
    command: {
      kind: 'run',
      request: {
        RegionId: deps.regionId,
        Name: commandNameFor(runId, spec.command.name),
        Type: spec.command.type,
        CommandContent: spec.command.script,
        Timeout: spec.command.timeoutSeconds,
        // Parameters are substituted by Cloud Assistant; built-ins like {{ACS::InstanceId}} need this on too.
        EnableParameter: hasParams || /\{\{\s*acs\s*::/i.test(spec.command.script),
        ...(hasParams ? { Parameters: params } : {}),
        ...(spec.command.workingDir ? { WorkingDir: spec.command.workingDir } : {}),
        ...(spec.command.username ? { Username: spec.command.username } : {}),
        ...(spec.command.terminationMode ? { TerminationMode: spec.command.terminationMode } : {}),
      },
    },
    // Each call's command name and output folder carry its batch number, so task-events finds an
    // instance's delivered output among its call's ≤100 objects, not among the whole run's.
    perBatch: (batch) => ({
      Name: commandNameFor(runId, spec.command.name, batch),
      ...(manifest.output.mode === 'oss' ? { OssOutputDelivery: `oss://${manifest.output.bucket}/${outputBatchPrefix(manifest.output.prefix, batch)}` } : {}),
    }),
    ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
    ...(spec.maxErrors !== undefined ? { maxErrors: spec.maxErrors } : {}),
    ...(request.completions ? { completions: request.completions } : {}),
  }).finally(() => stopWatch.close());

  manifest = runManifestSchema.parse({
    ...manifest,
    invocations: result.batches.filter((b) => b.invokeId).map((b) => ({ invokeId: b.invokeId!, commandId: b.commandId ?? '', instanceIds: b.instanceIds })),
    skipped: [
      ...manifest.skipped,
      ...result.setAside,
      ...result.batches.filter((b) => b.error).flatMap((b) => b.instanceIds.map((instanceId) => ({ instanceId, reason: 'DispatchFailed' as const }))),
      ...result.notDispatched.map((instanceId) => ({ instanceId, reason: result.stoppedBy === 'stop-requested' ? ('StopRequested' as const) : ('NotDispatched' as const) })),
    ],
  });
  await deps.store.put(runKeys.manifest(runId), JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  // A stop that came while the InvokeIds were not yet in the manifest could not reach them: stop them here.
  if (manifest.invocations.length > 0 && (await isStopRequested(deps.store, runId))) await stopInvocations(manifest, deps);
  // Everything may have finished (or been set aside) before the manifest knew: finish it here then.
  await finishIfComplete(manifest, deps);
  return manifest;
}

/**
 * StopInvocation for each of the run's invocations. One the stop request already reached, or that
 * has finished, may refuse; that is logged and the others are still stopped.
 */
export async function stopInvocations(manifest: RunManifest, deps: Pick<StartRunDeps, 'assistant' | 'regionId' | 'logger'>): Promise<void> {
  for (const inv of manifest.invocations) {
    await deps.assistant.stopInvocation({ RegionId: deps.regionId, InvokeId: inv.invokeId }).catch((e: unknown) => {
      deps.logger.warn('stop invocation failed', { runId: manifest.runId, invokeId: inv.invokeId, error: (e as Error).message });
    });
  }
}
