/**
 * task-events: TaskCompleted events in (as the EventBridge envelope took them apart: typed, or
 * failed with a reason), one result message per finished instance out. Malformed events and
 * events of commands that are not fleetrun's are logged with the reason and skipped;
 * they never fail the batch. A failure to reach OSS, ECS or MNS fails it, so EventBridge delivers
 * it again — safe, because every later step is idempotent.
 */
import type { InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';
import { dedupeKey, type TaskCompletedData, type TaskCompletedEvent } from '../events/task-completed.ts';
import { batchFromCommandName, runIdFromCommandName, runKeys } from '../runs/keys.ts';
import { runManifestSchema, type RunManifest } from '../runs/manifest.ts';
import type { InstanceResult } from '../runs/result.ts';
import { unseal } from '../runs/seal.ts';
import type { ResultQueue } from '../queue/port.ts';
import type { ParsedRecord } from '../runtime/envelopes/envelope.ts';
import type { Logger } from '../runtime/logger.ts';
import { redactorFor, type Redactor } from '../runtime/redaction.ts';
import type { ObjectStore } from '../store/port.ts';
import { recordedInvocation } from './fan-out.ts';
import { outputBatchPrefix, type DeliveredOutputIndex } from './output-sources.ts';
import type { ReadPublisher, ResultFetcher } from './result-fetcher.ts';
import { resultMessage } from './result-message.ts';

export interface TaskEventsDeps {
  store: ObjectStore;
  /** Outputs delivered by OssOutputDelivery, when runs use it. */
  outputs?: DeliveredOutputIndex | undefined;
  queue: ResultQueue;
  fetcher: ResultFetcher;
  logger: Logger;
  /** Unseals secret parameter values for redaction. */
  sealKey?: string | undefined;
}

export interface TaskEventsOutcome {
  sent: number;
  skipped: { id: string; reason: string }[];
}

export class ManifestMissingError extends Error {
  override readonly name = 'ManifestMissingError';
}

interface KnownRun {
  manifest: RunManifest;
  /** The manifest's targets as a set: a 10,000-instance run is looked up once per event. */
  targets: Set<string>;
}

/** Manifests never change the fields task-events reads, so a warm instance keeps them (a few hundred runs). */
const manifests = new Map<string, Promise<KnownRun>>();
const MAX_KEPT_RUNS = 500;

function loadManifest(store: ObjectStore, runId: string): Promise<KnownRun> {
  let known = manifests.get(runId);
  if (!known) {
    // Concurrent events of one run share one read.
    known = (async () => {
      const raw = await store.get(runKeys.manifest(runId));
      // The manifest is written before any command is sent, so its absence is transient: fail and be redelivered.
      if (!raw) throw new ManifestMissingError(`no manifest for run ${runId} yet`);
      const manifest = runManifestSchema.parse(JSON.parse(raw.toString('utf8')));
      return { manifest, targets: new Set(manifest.targets) };
    })();
    manifests.set(runId, known);
    known.catch(() => manifests.delete(runId));
    if (manifests.size > MAX_KEPT_RUNS) manifests.delete(manifests.keys().next().value!);
  }
  return known;
}

/**
 * The InvokeId recorded for a command. Events carry only documented fields, which name no
 * invocation; with it, one DescribeInvocations reads a whole ≤100-instance call instead of pages
 * of 50. While the fan-out is open the call is in its log, under the batch the command's name
 * carries (fan-out.ts); a warm copy of a manifest may predate the fan-out's end: read it again once.
 */
async function recordedInvokeId(store: ObjectStore, runId: string, manifest: RunManifest, commandId: string, batch: number | undefined): Promise<string | undefined> {
  const known = manifest.invocations.find((i) => i.commandId === commandId)?.invokeId;
  if (known) return known;
  if (batch !== undefined) {
    const logged = await recordedInvocation(store, runId, batch);
    if (logged?.commandId === commandId && logged.invokeId) return logged.invokeId;
  }
  if ((await manifests.get(runId)?.catch(() => undefined))?.manifest === manifest) manifests.delete(runId);
  const fresh = await loadManifest(store, runId);
  return fresh.manifest.invocations.find((i) => i.commandId === commandId)?.invokeId;
}

function secretsOf(manifest: RunManifest, sealKey: string | undefined, logger: Logger): string[] {
  if (!manifest.sealedSecrets) return [];
  if (!sealKey) {
    logger.error('run has sealed secrets but no seal key is configured; outputs will be withheld', { runId: manifest.runId });
    return [];
  }
  return unseal(manifest.sealedSecrets, sealKey).filter((s) => s.length > 0);
}

export async function handleTaskEvents(records: ParsedRecord<TaskCompletedEvent>[], deps: TaskEventsDeps): Promise<TaskEventsOutcome> {
  const arrivedAt = Date.now();
  const skipped: TaskEventsOutcome['skipped'] = [];
  const byRun = new Map<string, TaskCompletedEvent[]>();
  const seen = new Set<string>();
  for (const parsed of records) {
    const id = parsed.id;
    if (!parsed.ok) {
      skipped.push({ id, reason: `malformed event: ${parsed.reason}` });
      continue;
    }
    const event = parsed.record;
    const runId = runIdFromCommandName(event.data.commandName);
    if (!runId) {
      skipped.push({ id, reason: `command "${event.data.commandName}" is not a fleetrun run` });
      continue;
    }
    const key = dedupeKey(event.data);
    if (seen.has(key)) continue;
    seen.add(key);
    byRun.set(runId, [...(byRun.get(runId) ?? []), event]);
  }
  for (const s of skipped) deps.logger.warn('event skipped', s);

  const bodies: string[] = [];
  let sentByReads = 0;
  for (const [runId, named] of byRun) {
    const { manifest, targets } = await loadManifest(deps.store, runId);
    // The manifest names every target before the first command is sent, so an instance it does not
    // name never ran this run's command: its "result" would be invented, and fetching it an ECS call.
    const events = named.filter((e) => targets.has(e.data.instanceId));
    for (const e of named) {
      if (targets.has(e.data.instanceId)) continue;
      const s = { id: e.id, reason: `instance "${e.data.instanceId.slice(0, 64)}" is not a target of run ${runId}` };
      skipped.push(s);
      deps.logger.warn('event skipped', s);
    }
    if (events.length === 0) continue;
    const secrets = secretsOf(manifest, deps.sealKey, deps.logger);
    const withhold = !!manifest.sealedSecrets && secrets.length === 0;
    // One redactor per run: its secrets' forms are worked out once for all of the run's outputs.
    const redactor = redactorFor(secrets);
    const messageOf = (d: ResultFields, out: FoundOutput | undefined) => resultMessage(instanceResult(runId, d, out, redactor, withhold), deps.store);
    const { found, fetched } = await outputsFor(manifest, events, deps, arrivedAt, {
      messageOf,
      // A read sends every finished instance it found: their events, in other instances, are then no-ops.
      publisher: {
        messageFor: async (r) => (targets.has(r.instanceId) ? messageOf({ commandId: r.commandId, instanceId: r.instanceId, invocationStatus: r.status }, foundFromService(r)) : undefined),
        send: async (b) => {
          await deps.queue.send(b);
          sentByReads += b.length;
        },
      },
    });
    for (const event of events) {
      if (fetched.has(event.data.instanceId)) continue;
      bodies.push(await messageOf(event.data, found.get(event.data.instanceId)));
    }
  }
  await deps.queue.send(bodies);
  return { sent: bodies.length + sentByReads, skipped };
}

interface FoundOutput {
  output: string;
  bytes: number;
  invokeId?: string;
  exitCode?: number;
  errorCode?: string;
  errorInfo?: string;
  startTime?: string;
  finishTime?: string;
}

/** The event fields a result is built from; a result found by another event's read has only the service's. */
type ResultFields = Pick<TaskCompletedData, 'commandId' | 'instanceId' | 'invocationStatus'> & Partial<Pick<TaskCompletedData, 'invokeId' | 'exitCode' | 'errorCode' | 'errorInfo' | 'startTime' | 'finishTime'>>;

/** The event's fields first, the service's where the event has none; output and error text redacted. */
function instanceResult(runId: string, d: ResultFields, out: FoundOutput | undefined, redactor: Redactor, withhold: boolean): InstanceResult {
  const output = withhold ? '[output withheld: secrets could not be unsealed]' : redactor.redact(out?.output ?? '');
  return {
    version: 1,
    runId,
    invokeId: d.invokeId ?? out?.invokeId ?? '',
    commandId: d.commandId,
    instanceId: d.instanceId,
    status: d.invocationStatus,
    exitCode: d.exitCode ?? out?.exitCode ?? 0,
    errorCode: d.errorCode ?? out?.errorCode ?? '',
    errorInfo: redactor.redact(d.errorInfo ?? out?.errorInfo ?? ''),
    ...(d.startTime || out?.startTime ? { startTime: d.startTime || out!.startTime } : {}),
    ...(d.finishTime || out?.finishTime ? { finishTime: d.finishTime || out!.finishTime } : {}),
    output,
    outputBytes: out?.bytes ?? Buffer.byteLength(output),
    source: 'event',
  };
}

function foundFromService(r: ServiceResult): FoundOutput {
  return {
    output: r.output,
    bytes: Buffer.byteLength(r.output) + r.dropped,
    invokeId: r.invokeId,
    exitCode: r.exitCode,
    errorCode: r.errorCode,
    errorInfo: r.errorInfo,
    ...(r.startTime ? { startTime: r.startTime.toISOString() } : {}),
    ...(r.finishTime ? { finishTime: r.finishTime.toISOString() } : {}),
  };
}

interface FetchSending {
  messageOf: (d: ResultFields, out: FoundOutput | undefined) => Promise<string>;
  publisher: ReadPublisher;
}

/**
 * Outputs found in OSS, for the caller to send; the rest are read from the service, and a read
 * sends its results itself (`fetched`: nothing left to send for those).
 */
async function outputsFor(manifest: RunManifest, events: TaskCompletedEvent[], deps: TaskEventsDeps, arrivedAt: number, sending: FetchSending): Promise<{ found: Map<string, FoundOutput>; fetched: Set<string> }> {
  const found = new Map<string, FoundOutput>();
  let missing = events;
  if (manifest.output.mode === 'oss' && deps.outputs) {
    const outputs = deps.outputs;
    const byFolder = new Map<string, string[]>();
    for (const e of events) {
      const batch = batchFromCommandName(e.data.commandName);
      const folder = batch === undefined ? manifest.output.prefix : outputBatchPrefix(manifest.output.prefix, batch);
      const ids = byFolder.get(folder) ?? [];
      ids.push(e.data.instanceId);
      byFolder.set(folder, ids);
    }
    const delivered = (await Promise.all([...byFolder].map(([folder, ids]) => outputs.find(folder, ids, arrivedAt)))).flatMap((m) => [...m]);
    const bodies = await Promise.all(delivered.map(([, key]) => outputs.store.get(key)));
    delivered.forEach(([instanceId], n) => {
      const body = bodies[n];
      if (body) found.set(instanceId, { output: body.toString('utf8'), bytes: body.length });
    });
    // An instance that never ran has nothing delivered; one whose delivery lags falls back to the API.
    missing = events.filter((e) => !found.has(e.data.instanceId) && e.data.invocationStatus !== 'Aborted' && e.data.invocationStatus !== 'Invalid' && e.data.invocationStatus !== 'Cancelled');
    for (const e of events) if (!found.has(e.data.instanceId) && !missing.includes(e)) found.set(e.data.instanceId, { output: '', bytes: 0 });
  }
  const since = Date.parse(manifest.createdAt);
  const unnamed = new Map(missing.filter((e) => !e.data.invokeId).map((e) => [e.data.commandId, batchFromCommandName(e.data.commandName)] as const));
  const recorded = new Map(await Promise.all([...unnamed].map(async ([c, batch]) => [c, await recordedInvokeId(deps.store, manifest.runId, manifest, c, batch)] as const)));
  await Promise.all(
    missing.map((e) =>
      deps.fetcher.fetch({
        runId: manifest.runId,
        commandId: e.data.commandId,
        invokeId: e.data.invokeId,
        instanceId: e.data.instanceId,
        since,
        recordedInvokeId: recorded.get(e.data.commandId),
        onlyThese: manifest.targets.length === 1 || manifest.output.mode === 'oss',
        message: (r) => sending.messageOf(e.data, r ? foundFromService(r) : undefined),
        publisher: sending.publisher,
      }),
    ),
  );
  return { found, fetched: new Set(missing.map((e) => e.data.instanceId)) };
}
