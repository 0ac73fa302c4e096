/**
 * task-events: a batch of TaskCompleted events in (as the EventBridge envelope took them apart:
 * typed, or failed with a reason), one result per finished instance out (packed several to a
 * queue message by the queue). Malformed events
 * and events of commands that are not fleetrun's are logged with the reason and skipped; they never
 * fail the batch. A failure to reach OSS, ECS or MNS fails only the events it touched: the others'
 * results are sent, then the invocation fails naming the failed ones, so EventBridge delivers the
 * batch again — safe, because every later step is idempotent (a result already stored is a no-op).
 *
 * An output delivered to OSS may land after its event (the order is undocumented): it is waited for,
 * listing again with backoff, up to FLEETRUN_OUTPUT_WAIT_MS, and read from the service only past that.
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
  /** How long an output not yet in OSS when its event arrives is waited for (FLEETRUN_OUTPUT_WAIT_MS); 0 or absent: read from the service at once. */
  outputWaitMs?: number | undefined;
  /** When FC stops this invocation: waits end early enough for what must follow them. */
  deadline?: Date | undefined;
}

export interface TaskEventsOutcome {
  /** Result messages sent by this invocation, including those a read sent for other instances' events. */
  sent: number;
  /** Events whose result is on its way (sent here, or by a read made for another event). */
  served: string[];
  skipped: { id: string; reason: string }[];
  /** Events to be delivered again, each with why (when any is here, the handler throws TaskEventsFailedError). */
  failed: { id: string; reason: string }[];
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

/**
 * What became of each event of a batch. Served: its result is on the queue (sent here, or by a read
 * made for another event). Skipped: it is not fleetrun's to serve, and never will be. Failed: a
 * transient failure (OSS, ECS, MNS) — the invocation fails naming it, and the batch comes again.
 */
class BatchReport {
  readonly served: string[] = [];
  readonly skipped: { id: string; reason: string }[] = [];
  readonly failed: { id: string; reason: string }[] = [];
  sent = 0;

  constructor(private readonly logger: Logger) {}

  skip(id: string, reason: string): void {
    const s = { id, reason };
    this.skipped.push(s);
    this.logger.warn('event skipped', s);
  }

  fail(events: TaskCompletedEvent[], error: unknown): void {
    const reason = reasonOf(error);
    for (const e of events) this.failed.push({ id: e.id, reason });
    if (events.length > 0) this.logger.error('events failed', { ids: events.map((e) => e.id), reason });
  }

  serve(events: TaskCompletedEvent[]): void {
    for (const e of events) this.served.push(e.id);
  }

  settleDuplicates(duplicates: { id: string; twin: string }[]): void {
    if (duplicates.length === 0) return;
    const failed = new Map(this.failed.map((f) => [f.id, f.reason]));
    for (const d of duplicates) {
      const reason = failed.get(d.twin);
      if (reason === undefined) this.served.push(d.id);
      else this.failed.push({ id: d.id, reason: `a copy of ${d.twin}: ${reason}` });
    }
  }

  get outcome(): TaskEventsOutcome {
    return { sent: this.sent, served: this.served, skipped: this.skipped, failed: this.failed };
  }
}

function reasonOf(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | undefined;
  const text = `${typeof e?.name === 'string' ? e.name : 'Error'}: ${typeof e?.message === 'string' ? e.message : String(error)}`;
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** The invocation failed for some of its events; the others' results were sent. */
export class TaskEventsFailedError extends Error {
  override readonly name = 'TaskEventsFailedError';
  constructor(readonly outcome: TaskEventsOutcome) {
    const named = outcome.failed.slice(0, 10).map((f) => `${f.id} (${f.reason})`).join('; ');
    super(`${outcome.failed.length} event(s) failed and are to be delivered again: ${named}${outcome.failed.length > 10 ? '; …' : ''} — ${outcome.served.length} served, ${outcome.skipped.length} skipped`);
  }
}

/**
 * What an output wait leaves before the invocation's deadline: room for the API read it may fall
 * back to — one fetch slot (FLEETRUN_FETCH_INTERVAL_MS, 5 s), a claim holder's grace (10 s,
 * result-fetcher.ts) and the sends.
 */
const FALLBACK_RESERVE_MS = 20_000;
/** What a read's wait leaves before the deadline: the read's own sends and the answer. */
const READ_RESERVE_MS = 5_000;

/**
 * Serves a batch of TaskCompleted events as one unit: each run's events on their own, so a failure
 * in one run (its manifest unreadable, an ECS read refused, a send lost) leaves the others' results
 * sent. Throws TaskEventsFailedError naming the failed events once everything else is done;
 * redelivering the batch is safe, since every step after this one is idempotent.
 */
export async function handleTaskEvents(records: ParsedRecord<TaskCompletedEvent>[], deps: TaskEventsDeps): Promise<TaskEventsOutcome> {
  const arrivedAt = Date.now();
  const report = new BatchReport(deps.logger);
  const byRun = new Map<string, TaskCompletedEvent[]>();
  const seen = new Map<string, TaskCompletedEvent>();
  /** Events delivered twice in one batch: served once, each copy given its twin's outcome. */
  const duplicates: { id: string; twin: string }[] = [];
  for (const parsed of records) {
    const id = parsed.id;
    if (!parsed.ok) {
      report.skip(id, `malformed event: ${parsed.reason}`);
      continue;
    }
    const event = parsed.record;
    const runId = runIdFromCommandName(event.data.commandName);
    if (!runId) {
      report.skip(id, `command "${event.data.commandName}" is not a fleetrun run`);
      continue;
    }
    const key = dedupeKey(event.data);
    const twin = seen.get(key);
    if (twin) {
      duplicates.push({ id, twin: twin.id });
      continue;
    }
    seen.set(key, event);
    const events = byRun.get(runId);
    if (events) events.push(event);
    else byRun.set(runId, [event]);
  }

  const deadline = deps.deadline?.getTime() ?? Number.POSITIVE_INFINITY;
  const timing: Timing = {
    arrivedAt,
    outputsUntil: Math.min(arrivedAt + (deps.outputWaitMs ?? 0), deadline - FALLBACK_RESERVE_MS),
    readsUntil: deadline - READ_RESERVE_MS,
  };
  await Promise.all([...byRun].map(([runId, events]) => serveRun(runId, events, deps, timing, report)));
  report.settleDuplicates(duplicates);

  const outcome = report.outcome;
  if (records.length > 1) deps.logger.info('batch served', { events: records.length, served: outcome.served.length, skipped: outcome.skipped.length, failed: outcome.failed.length, sent: outcome.sent });
  if (outcome.failed.length > 0) throw new TaskEventsFailedError(outcome);
  return outcome;
}

interface Timing {
  arrivedAt: number;
  /** Outputs not yet in OSS are awaited until then, and read from the service after. */
  outputsUntil: number;
  /** A read not made by then is deferred: the event fails and comes again. */
  readsUntil: number;
}

/** One run's events: results sent, or each event failed with its reason. Never throws. */
async function serveRun(runId: string, named: TaskCompletedEvent[], deps: TaskEventsDeps, timing: Timing, report: BatchReport): Promise<void> {
  let known: KnownRun;
  try {
    known = await loadManifest(deps.store, runId);
  } catch (e) {
    report.fail(named, e);
    return;
  }
  const { manifest, targets } = known;
  // The manifest names every target before the first command is sent, so an instance it does not
  // name never ran this run's command: its "result" would be invented, and fetching it an ECS call.
  const events = named.filter((e) => targets.has(e.data.instanceId));
  for (const e of named) if (!targets.has(e.data.instanceId)) report.skip(e.id, `instance "${e.data.instanceId.slice(0, 64)}" is not a target of run ${runId}`);
  if (events.length === 0) return;
  let sending: RunSending;
  try {
    sending = runSending(manifest, targets, deps, report);
  } catch (e) {
    report.fail(events, e);
    return;
  }
  const missing = manifest.output.mode === 'oss' && deps.outputs ? await fromDeliveredOutputs(manifest.output.prefix, events, deps.outputs, timing, sending, report) : events;
  await fetchResults(manifest, missing, deps, timing, sending, report);
}

interface RunSending {
  messageOf: (d: ResultFields, out: FoundOutput | undefined) => ReturnType<typeof resultMessage>;
  /** Sends the events' results, built from what was found for each; marks them served, or failed. */
  send(events: TaskCompletedEvent[], outputOf: (e: TaskCompletedEvent) => FoundOutput | undefined): Promise<void>;
  publisher: ReadPublisher;
}

function runSending(manifest: RunManifest, targets: Set<string>, deps: TaskEventsDeps, report: BatchReport): RunSending {
  const runId = manifest.runId;
  const secrets = secretsOf(manifest, deps.sealKey, deps.logger);
  const withhold = !!manifest.sealedSecrets && secrets.length === 0;
  // One redactor per run: its secrets' forms are worked out once for all of the run's outputs.
  const redactor = redactorFor(secrets);
  const messageOf = (d: ResultFields, out: FoundOutput | undefined) => resultMessage(instanceResult(runId, d, out, redactor, withhold), deps.store);
  return {
    messageOf,
    async send(events, outputOf) {
      if (events.length === 0) return;
      try {
        const bodies = await Promise.all(events.map((e) => messageOf(e.data, outputOf(e))));
        await deps.queue.send(bodies);
        report.sent += bodies.length;
        report.serve(events);
      } catch (e) {
        report.fail(events, e);
      }
    },
    // A read sends every finished instance it found: their events, in other instances, are then no-ops.
    publisher: {
      messageFor: async (r) => (targets.has(r.instanceId) ? messageOf({ commandId: r.commandId, instanceId: r.instanceId, invocationStatus: r.status }, foundFromService(r)) : undefined),
      send: async (b) => {
        await deps.queue.send(b);
        report.sent += b.length;
      },
    },
  };
}

/** Statuses with nothing to deliver: the command never ran on the instance. */
const NEVER_RAN = new Set(['Aborted', 'Invalid', 'Cancelled']);
/** Output objects read at once, per folder. */
const READS_AT_ONCE = 16;

/**
 * Results from outputs delivered to OSS, sent as their objects are found; an object not there yet
 * is waited for until `timing.outputsUntil`. Answers the events whose output never came in time,
 * for the API to serve.
 */
async function fromDeliveredOutputs(runPrefix: string, events: TaskCompletedEvent[], outputs: DeliveredOutputIndex, timing: Timing, sending: RunSending, report: BatchReport): Promise<TaskCompletedEvent[]> {
  const none: FoundOutput = { output: '', bytes: 0 };
  const ran: TaskCompletedEvent[] = [];
  const neverRan: TaskCompletedEvent[] = [];
  for (const e of events) (NEVER_RAN.has(e.data.invocationStatus) ? neverRan : ran).push(e);
  const byFolder = new Map<string, Map<string, TaskCompletedEvent>>();
  for (const e of ran) {
    const batch = batchFromCommandName(e.data.commandName);
    const folder = batch === undefined ? runPrefix : outputBatchPrefix(runPrefix, batch);
    const inFolder = byFolder.get(folder) ?? byFolder.set(folder, new Map()).get(folder)!;
    inFolder.set(e.data.instanceId, e);
  }
  const late: TaskCompletedEvent[] = [];
  await Promise.all([
    sending.send(neverRan, () => none),
    ...[...byFolder].map(async ([folder, waiting]) => {
      const onFound = async (found: Map<string, string>) => {
        const ready = [...found].map(([instanceId, key]) => ({ event: waiting.get(instanceId)!, key }));
        for (const instanceId of found.keys()) waiting.delete(instanceId);
        const bodies = new Map<TaskCompletedEvent, FoundOutput>();
        await eachLimited(ready, READS_AT_ONCE, async ({ event, key }) => {
          try {
            const body = await outputs.store.get(key);
            // Listed a moment ago and gone now (a lifecycle rule): there is nothing left to read.
            bodies.set(event, body ? { output: body.toString('utf8'), bytes: body.length } : none);
          } catch (e) {
            report.fail([event], e);
          }
        });
        await sending.send([...bodies.keys()], (e) => bodies.get(e));
      };
      try {
        await outputs.waitFor(folder, [...waiting.keys()], { askedAt: timing.arrivedAt, until: timing.outputsUntil, onFound });
      } catch (e) {
        report.fail([...waiting.values()], e);
        waiting.clear();
      }
      late.push(...waiting.values());
    }),
  ]);
  return late;
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Results read from the service; a read sends its results itself. */
async function fetchResults(manifest: RunManifest, events: TaskCompletedEvent[], deps: TaskEventsDeps, timing: Timing, sending: RunSending, report: BatchReport): Promise<void> {
  if (events.length === 0) return;
  const since = Date.parse(manifest.createdAt);
  const unnamed = new Map(events.filter((e) => !e.data.invokeId).map((e) => [e.data.commandId, batchFromCommandName(e.data.commandName)] as const));
  let recorded: Map<string, string | undefined>;
  try {
    recorded = new Map(await Promise.all([...unnamed].map(async ([c, batch]) => [c, await recordedInvokeId(deps.store, manifest.runId, manifest, c, batch)] as const)));
  } catch (e) {
    report.fail(events, e);
    return;
  }
  await Promise.all(
    events.map(async (e) => {
      try {
        await deps.fetcher.fetch({
          runId: manifest.runId,
          commandId: e.data.commandId,
          invokeId: e.data.invokeId,
          instanceId: e.data.instanceId,
          since,
          recordedInvokeId: recorded.get(e.data.commandId),
          onlyThese: manifest.targets.length === 1 || manifest.output.mode === 'oss',
          giveUpAt: timing.readsUntil,
          message: (r) => sending.messageOf(e.data, r ? foundFromService(r) : undefined),
          publisher: sending.publisher,
        });
        report.serve([e]);
      } catch (err) {
        report.fail([e], err);
      }
    }),
  );
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
