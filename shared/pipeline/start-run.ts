/**
 * Starting a run: resolve the targets, write the manifest (before any command is sent, so every
 * event can find its run), fan the command out, then record the InvokeIds. Used by chat, the
 * scheduler and the dispatch function alike.
 */
import { randomBytes } from 'node:crypto';
import type { CommandType, TerminationMode } from '../cloud-assistant/constants.ts';
import { dispatch, type CompletionFeed, type CountOrPercent } from '../cloud-assistant/dispatch.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { resolveTargets, type ResolvedTargets, type Targets } from '../cloud-assistant/targets.ts';
import { commandNameFor, runKeys } from '../runs/keys.ts';
import { runManifestSchema, type RunManifest, type RunManifestInput } from '../runs/manifest.ts';
import { seal } from '../runs/seal.ts';
import { finishIfComplete, readManifest, type FinishDeps } from './finish-run.ts';
import { outputBatchPrefix, outputPrefixFor } from './output-sources.ts';
import { isStopRequested, watchStopRequest } from './stop-request.ts';

export interface RunCommandSpec {
  name: string;
  type: CommandType;
  script: string;
  timeoutSeconds: number;
  parameters?: Record<string, string>;
  /** Names in `parameters` whose values are secret: sealed in the manifest, redacted from outputs. */
  secretParameters?: string[];
  /**
   * The secret values as a script will print them, when they travel encoded (the catalog sends
   * them base64): redaction must find the decoded form too.
   */
  secretValues?: string[];
  workingDir?: string;
  username?: string;
  terminationMode?: TerminationMode;
}

export interface StartRunRequest {
  runId?: string;
  command: RunCommandSpec;
  targets: Targets;
  requestedBy: RunManifest['requestedBy'];
  replyTo?: unknown;
  maxConcurrency?: CountOrPercent;
  maxErrors?: CountOrPercent;
  completions?: CompletionFeed;
  /** Targets already resolved by the caller (e.g. to check a policy on their number). */
  resolved?: ResolvedTargets;
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

export async function startRun(request: StartRunRequest, deps: StartRunDeps): Promise<RunManifest> {
  const runId = request.runId ?? newRunId();
  const secretNames = request.command.secretParameters ?? [];
  const params = request.command.parameters ?? {};
  for (const name of secretNames) if (!(name in params)) throw new RunRequestError(`secret parameter "${name}" has no value`);
  if (secretNames.length > 0 && !deps.sealKey) throw new RunRequestError('secret parameters need a seal key in the configuration');

  // A retried dispatch (FC retries async invocations) finds the run already started: same manifest,
  // and, if it died mid-way, the same ClientTokens give back the same InvokeIds.
  const existing = await readManifest(deps.store, runId);
  if (existing && existing.invocations.length > 0) return existing;
  const targets = request.resolved ?? (await resolveTargets(deps.assistant, request.targets));
  const draft: RunManifestInput = {
    version: 1,
    runId,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
    requestedBy: request.requestedBy,
    command: { name: request.command.name, type: request.command.type, timeoutSeconds: request.command.timeoutSeconds },
    targets: [...targets.runnable, ...targets.skipped.map((s) => s.instanceId)],
    skipped: targets.skipped,
    invocations: [],
    // Cloud Assistant writes delivered outputs as the script printed them, before fleetrun can
    // redact anything: a run with secret parameters has its outputs fetched instead, so a secret
    // the script echoes never lands in a bucket.
    output: deps.outputBucket && secretNames.length === 0 ? { mode: 'oss', bucket: deps.outputBucket, prefix: outputPrefixFor(runId) } : { mode: 'fetch' },
    secretParameters: secretNames,
    ...(secretNames.length > 0
      ? { sealedSecrets: seal([...new Set([...(request.command.secretValues ?? []), ...secretNames.map((n) => params[n]!)])], deps.sealKey!) }
      : {}),
    ...(request.replyTo !== undefined ? { replyTo: request.replyTo } : {}),
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
        Name: commandNameFor(runId, request.command.name),
        Type: request.command.type,
        CommandContent: request.command.script,
        Timeout: request.command.timeoutSeconds,
        // Parameters are substituted by Cloud Assistant; built-ins like {{ACS::InstanceId}} need this on too.
        EnableParameter: hasParams || /\{\{\s*acs\s*::/i.test(request.command.script),
        ...(hasParams ? { Parameters: params } : {}),
        ...(request.command.workingDir ? { WorkingDir: request.command.workingDir } : {}),
        ...(request.command.username ? { Username: request.command.username } : {}),
        ...(request.command.terminationMode ? { TerminationMode: request.command.terminationMode } : {}),
      },
    },
    // Each call's command name and output folder carry its batch number, so task-events finds an
    // instance's delivered output among its call's ≤100 objects, not among the whole run's.
    perBatch: (batch) => ({
      Name: commandNameFor(runId, request.command.name, batch),
      ...(manifest.output.mode === 'oss' ? { OssOutputDelivery: `oss://${manifest.output.bucket}/${outputBatchPrefix(manifest.output.prefix, batch)}` } : {}),
    }),
    ...(request.maxConcurrency !== undefined ? { maxConcurrency: request.maxConcurrency } : {}),
    ...(request.maxErrors !== undefined ? { maxErrors: request.maxErrors } : {}),
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
  for (const b of result.batches) if (b.commandId) await deps.store.put(runKeys.commandIndex(b.commandId), JSON.stringify({ runId }), { contentType: 'application/json' });
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
