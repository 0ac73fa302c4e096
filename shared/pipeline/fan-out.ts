/**
 * A run's fan-out, moved forward by whoever learns something — never by a function that waits.
 *
 * Design
 *
 * - **The plan** (`runs/<id>/plan.json`, written once before the manifest): the command as the run
 *   was asked for (secret values sealed), the batches in order (≤100 instances each, and no more
 *   than the run's maxConcurrency), and maxConcurrency and maxErrors as counts. With it, any
 *   function that holds the seal key can send any batch exactly as the first sender would have:
 *   same request, same ClientToken (`<run>-b<n>`), so sending a batch twice runs nothing twice.
 *
 * - **The log** (`runs/<id>/fan-out/`): decision n is a create-once object — the first writer
 *   decides, every other reads what was decided — saying either "batch n goes" or "the fan-out
 *   ends before batch n" (stop requested, or more instances failed than maxErrors allows). Batches
 *   are decided in order: decision n is made only by someone who has read decision n−1. Whoever
 *   wins a "goes" decision sends the batch and writes `<n>.sent` (create-once) the moment the call
 *   answers: the InvokeId, or the error, and the instances set aside. So the calls sent so far are
 *   always in the bucket, whatever happens to the sender afterwards.
 *
 * - **When a batch is due**: at once without maxConcurrency; with it, when the instances of the
 *   batches decided so far that have no result yet, plus this batch's, are at most maxConcurrency.
 *   A decided batch without its `.sent` counts as in flight; a batch whose call failed counts its
 *   instances as finished and failed; a result counts as failed when it is not a Success — the
 *   counting of shared/cloud-assistant/dispatch.ts, where maxErrors ends the fan-out once more
 *   than that many instances failed. "Due" only grows as results come in, so a late reader never
 *   undoes an earlier decision; the create-once decision makes it exactly once however many
 *   summarizers, reconciler ticks and retried dispatches look at the same moment.
 *
 * - **Who moves it**: dispatch (or the schedule tick for a timer job) writes the plan and the
 *   manifest and sends what is due at once — every batch of an unlimited run, the first wave of a
 *   limited one — and returns. summarize, after storing results of a run whose fan-out is open and
 *   concurrency-limited, sends what has become due (its batch objects of stored results say
 *   which instances finished and which failed: stored-results.ts). The reconciler does the same on every tick for
 *   every open fan-out, and sends again a batch decided long ago (FLEETRUN_REPLY_TAKEOVER_SECONDS)
 *   whose `.sent` never came — its sender died between the decision and the record; the
 *   ClientToken gives back the first call's InvokeId if there was one. A stop request ends the
 *   fan-out at the next decision; the sender of a batch looks for the stop marker after recording
 *   the batch and stops it itself, as the stop looks at the log after writing its marker, so one
 *   of the two always reaches it.
 *
 * - **The end**: once every decision is made and every batch it sent is recorded, whoever sees it
 *   first sends the "sent to N instances" notice (one create-once claim), then writes the final
 *   manifest — invocations, and the instances never sent among `skipped` — the same bytes whoever
 *   writes it, and `fanOut: done`. A run is complete only with a done manifest
 *   (finish-run.ts), so the notice always goes out before the final summary, never after it.
 */
import { sendBatch, type BatchCall, type DispatchCommand } from '../cloud-assistant/dispatch.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { commandNameFor, runKeys } from '../runs/keys.ts';
import { fanOutDecisionSchema, fanOutPlanSchema, sentBatchRecordSchema, type FanOutDecision, type FanOutPlan, type SentBatchRecord } from '../runs/fan-out.ts';
import { runManifestSchema, type RunManifest } from '../runs/manifest.ts';
import { openSecrets } from '../runs/sealed-secrets.ts';
import { redactorFor, type Redactor } from '../runtime/redaction.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import type { FinishDeps } from './finish-run.ts';
import { outputBatchPrefix } from './output-sources.ts';
import { isStopRequested } from './stop-request.ts';

export interface FanOutDeps extends FinishDeps {
  assistant: () => Promise<CloudAssistant>;
  regionId: string;
  /** Opens the plan's sealed secret values, for the calls' parameters. */
  sealKey?: string | undefined;
  /** Calls one sender has in flight at once (default 4). */
  callConcurrency?: number;
  /** Rounds a batch is sent in while its call fails with a transient error (dispatch.ts; default 3). */
  sendRounds?: number;
  roundDelayMs?: number;
}

/** The instances with a stored result, and those of them that did not succeed. */
export interface Finished {
  done: ReadonlySet<string>;
  failed: ReadonlySet<string>;
}

export const NOTHING_FINISHED: Finished = { done: new Set(), failed: new Set() };

export interface AdvanceOptions {
  /** What is stored so far; read only when the plan has a maxConcurrency or a maxErrors. */
  finished?: () => Promise<Finished>;
  /** The plan, when the caller has just written it. */
  plan?: FanOutPlan;
  /** A batch decided at least this long ago whose call was never recorded is sent again by this caller. */
  takeOverAfterSeconds?: number;
  now?: () => Date;
}

export interface AdvanceOutcome {
  /** The manifest as it now stands: the final one once the fan-out is done. */
  manifest: RunManifest;
  /** Every call recorded so far, in batch order. */
  invocations: RunManifest['invocations'];
  /** Batches this caller sent (taken over ones included). */
  sent: number[];
  /** This caller wrote the final manifest: it should see whether the run is complete. */
  finalized: boolean;
}

export class FanOutError extends Error {
  override readonly name = 'FanOutError';
}

/** Records of the log never change once written: a warm instance keeps what it read, per store (client). */
const RECORDS = new WeakMap<ObjectStore, Map<string, Promise<Buffer | undefined>>>();
const MAX_RECORDS = 20_000;

function readOnce(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  let records = RECORDS.get(store);
  if (!records) RECORDS.set(store, (records = new Map()));
  let body = records.get(key);
  if (!body) {
    const kept = records;
    body = store.get(key);
    kept.set(key, body);
    // Only what exists is final: an absent record may be written a moment later.
    void body.then((b) => (b ? undefined : kept.delete(key)), () => kept.delete(key));
    if (kept.size > MAX_RECORDS) kept.delete(kept.keys().next().value!);
  }
  return body;
}

async function readJson<T>(store: ObjectStore, key: string, parse: (v: unknown) => T): Promise<T | undefined> {
  const body = await readOnce(store, key);
  return body ? parse(JSON.parse(body.toString('utf8'))) : undefined;
}

export async function readPlan(store: ObjectStore, runId: string): Promise<FanOutPlan | undefined> {
  return readJson(store, runKeys.fanOutPlan(runId), (v) => fanOutPlanSchema.parse(v));
}

/** What the log says: decisions 0..next−1 (all "send" but an ending one), and the calls recorded. */
interface LogState {
  next: number;
  end: Extract<FanOutDecision, { kind: 'end' }> | undefined;
  /** decidedAt of the sends still unrecorded, for takeovers. */
  unrecorded: Map<number, string>;
  sent: Map<number, SentBatchRecord>;
}

async function readLog(store: ObjectStore, runId: string): Promise<LogState> {
  const prefix = runKeys.fanOutPrefix(runId);
  const decided = new Set<number>();
  const recorded = new Set<number>();
  for await (const o of store.list(prefix)) {
    const m = /^(\d{6})(\.sent)?$/.exec(o.key.slice(prefix.length));
    if (!m) continue;
    (m[2] ? recorded : decided).add(Number(m[1]));
  }
  const state: LogState = { next: 0, end: undefined, unrecorded: new Map(), sent: new Map() };
  // Decisions are made in order, so they are 0..n−1; a gap would be a decision made without reading the one before.
  while (decided.has(state.next)) state.next++;
  const records = await Promise.all([...recorded].map((n) => readJson(store, runKeys.fanOutSent(runId, n), (v) => sentBatchRecordSchema.parse(v))));
  for (const r of records) if (r) state.sent.set(r.batch, r);
  // Only the last decision can end the fan-out; the sends still unrecorded are read for their time.
  const toRead = new Set([...[...decided].filter((n) => !state.sent.has(n)), ...(state.next > 0 ? [state.next - 1] : [])]);
  const decisions = await Promise.all([...toRead].map((n) => readJson(store, runKeys.fanOutDecision(runId, n), (v) => fanOutDecisionSchema.parse(v))));
  for (const d of decisions) {
    if (!d) continue;
    if (d.kind === 'end') state.end = d;
    else if (!state.sent.has(d.batch)) state.unrecorded.set(d.batch, d.decidedAt);
  }
  return state;
}

/** Decided sends: 0..next−1, less the ending decision. */
function decidedSends(log: Pick<LogState, 'next' | 'end'>): number[] {
  const last = log.end ? log.end.from : log.next;
  return Array.from({ length: last }, (_, n) => n);
}

/** Instances in flight and instances failed, as decisions count them. */
export function tally(plan: FanOutPlan, log: Pick<LogState, 'next' | 'end' | 'sent'>, finished: Finished): { inFlight: number; errors: number } {
  let inFlight = 0;
  let errors = 0;
  for (const n of decidedSends(log)) {
    const record = log.sent.get(n);
    if (!record) {
      inFlight += plan.batches[n]!.length;
      continue;
    }
    if (record.error) {
      errors += record.instanceIds.length;
      continue;
    }
    for (const id of record.instanceIds) {
      if (!finished.done.has(id)) inFlight++;
      else if (finished.failed.has(id)) errors++;
    }
  }
  return { inFlight, errors };
}

/** The calls recorded so far, as the manifest lists them. */
function invocationsOf(log: LogState): RunManifest['invocations'] {
  return [...log.sent.values()]
    .filter((r) => r.invokeId)
    .sort((a, b) => a.batch - b.batch)
    .map((r) => ({ invokeId: r.invokeId!, commandId: r.commandId ?? '', instanceIds: r.instanceIds, sentAt: r.sentAt }));
}

/** The final manifest: a pure function of the open one, the plan and the log, so every writer writes the same bytes. */
function finalManifest(manifest: RunManifest, plan: FanOutPlan, log: LogState): RunManifest {
  const records = [...log.sent.values()].sort((a, b) => a.batch - b.batch);
  const unsent = log.end ? plan.batches.slice(log.end.from).flat() : [];
  return runManifestSchema.parse({
    ...manifest,
    fanOut: 'done',
    invocations: invocationsOf(log),
    skipped: [
      ...manifest.skipped,
      ...records.flatMap((r) => r.setAside),
      ...records.filter((r) => r.error).flatMap((r) => r.instanceIds.map((instanceId) => ({ instanceId, reason: 'DispatchFailed' as const }))),
      ...unsent.map((instanceId) => ({ instanceId, reason: log.end!.reason === 'stop-requested' ? ('StopRequested' as const) : ('NotDispatched' as const) })),
    ],
  });
}

/** The RunCommand request every batch of the run shares, with its secret values opened. */
function commandOf(manifest: RunManifest, plan: FanOutPlan, deps: FanOutDeps): { command: DispatchCommand; perBatch: BatchCall['perBatch']; secrets: string[] } {
  const c = plan.command;
  if (c.secretParameters.length > 0 && !deps.sealKey) throw new FanOutError(`run ${manifest.runId} has secret parameters and this function has no seal key: its batches cannot be sent from here`);
  const opened = c.sealedSecrets ? openSecrets(c.sealedSecrets, c.secretParameters, deps.sealKey!) : undefined;
  const params = { ...c.parameters, ...opened?.parameters };
  const hasParams = Object.keys(params).length > 0;
  const output = manifest.output;
  return {
    secrets: opened?.redact ?? [],
    command: {
      kind: 'run',
      request: {
        RegionId: deps.regionId,
        Name: commandNameFor(manifest.runId, c.name),
        Type: c.type,
        CommandContent: c.script,
        Timeout: c.timeoutSeconds,
        // Parameters are substituted by Cloud Assistant; built-ins like {{ACS::InstanceId}} need this on too.
        EnableParameter: hasParams || /\{\{\s*acs\s*::/i.test(c.script),
        ...(hasParams ? { Parameters: params } : {}),
        ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
        ...(c.username ? { Username: c.username } : {}),
        ...(c.terminationMode ? { TerminationMode: c.terminationMode } : {}),
      },
    },
    // Each call's command name and output folder carry its batch number, so task-events finds an
    // instance's delivered output among its call's ≤100 objects, not among the whole run's.
    perBatch: (batch) => ({
      Name: commandNameFor(manifest.runId, c.name, batch),
      ...(output.mode === 'oss' ? { OssOutputDelivery: `oss://${output.bucket}/${outputBatchPrefix(output.prefix, batch)}` } : {}),
    }),
  };
}

/** One lock per call of advanceFanOut: decisions are made one at a time, calls go out in parallel. */
function serially(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const run = tail.then(work, work);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * Sends what is due of the run's fan-out, takes over batches whose sender died (with
 * `takeOverAfterSeconds`), and ends the fan-out on a stop request or too many failures; writes the
 * final manifest once everything is decided and recorded. A done manifest is handed back as it is.
 */
export async function advanceFanOut(manifest: RunManifest, deps: FanOutDeps, options: AdvanceOptions = {}): Promise<AdvanceOutcome> {
  if (manifest.fanOut === 'done') return { manifest, invocations: manifest.invocations, sent: [], finalized: false };
  const runId = manifest.runId;
  const now = options.now ?? (() => new Date());
  const plan = options.plan ?? (await readPlan(deps.store, runId));
  if (!plan) throw new FanOutError(`run ${runId} has an open fan-out and no plan`);
  const log = await readLog(deps.store, runId);
  const limited = plan.maxConcurrency !== undefined || plan.maxErrors !== undefined;
  const finished = limited && options.finished ? await options.finished() : NOTHING_FINISHED;

  const stale = options.takeOverAfterSeconds === undefined ? [] : [...log.unrecorded].filter(([, at]) => now().getTime() - Date.parse(at) >= options.takeOverAfterSeconds! * 1000).map(([n]) => n);
  let sending: ReturnType<typeof commandOf> | undefined;
  let redactor: Redactor = redactorFor([]);
  let logger: Logger = deps.logger;
  const prepare = () => {
    if (!sending) {
      sending = commandOf(manifest, plan, deps);
      redactor = redactorFor(sending.secrets);
      logger = deps.logger.withSecrets(sending.secrets);
    }
    return sending;
  };

  // The stop marker, looked at most once a second for decisions; after a call, always afresh.
  let stopSeen: { at: number; stopped: boolean } | undefined;
  const stopRequested = async () => {
    if (!stopSeen || Date.now() - stopSeen.at >= 1000) stopSeen = { at: Date.now(), stopped: await isStopRequested(deps.store, runId) };
    return stopSeen.stopped;
  };

  const claim = async (n: number, decision: FanOutDecision): Promise<FanOutDecision> => {
    const written = await deps.store.put(runKeys.fanOutDecision(runId, n), JSON.stringify(decision), { forbidOverwrite: true, contentType: 'application/json' });
    if (written === 'written') return decision;
    const theirs = await readJson(deps.store, runKeys.fanOutDecision(runId, n), (v) => fanOutDecisionSchema.parse(v));
    if (!theirs) throw new FanOutError(`decision ${n} of run ${runId} exists and cannot be read`);
    return theirs;
  };

  const decideNext = serially();
  /** The next batch this caller is to send, or undefined when nothing more is due now. */
  const nextDue = () =>
    decideNext(async (): Promise<number | undefined> => {
      for (;;) {
        const n = log.next;
        if (log.end || n >= plan.batches.length) return undefined;
        const { inFlight, errors } = tally(plan, log, finished);
        const decidedAt = now().toISOString();
        let mine: FanOutDecision;
        if (plan.maxErrors !== undefined && errors > plan.maxErrors) mine = { version: 1, kind: 'end', from: n, reason: 'max-errors', decidedAt };
        else if (await stopRequested()) mine = { version: 1, kind: 'end', from: n, reason: 'stop-requested', decidedAt };
        else if (plan.maxConcurrency !== undefined && inFlight + plan.batches[n]!.length > plan.maxConcurrency) return undefined;
        else {
          prepare();
          mine = { version: 1, kind: 'send', batch: n, decidedAt };
        }
        const decided = await claim(n, mine);
        log.next = n + 1;
        if (decided.kind === 'end') {
          log.end = decided;
          if (decided === mine) deps.logger.info('fan-out ended', { runId, from: n, reason: decided.reason });
          return undefined;
        }
        if (decided === mine) return n;
        // Another sender decided it: theirs to send and record.
        log.unrecorded.set(n, decided.decidedAt);
      }
    });

  const sent: number[] = [];
  const send = async (n: number) => {
    const { command, perBatch } = prepare();
    const sentAt = now().toISOString();
    const call = await sendBatch(await deps.assistant(), { runId, command, perBatch, ...(deps.sendRounds !== undefined ? { sendRounds: deps.sendRounds } : {}), ...(deps.roundDelayMs !== undefined ? { roundDelayMs: deps.roundDelayMs } : {}) }, n, plan.batches[n]!);
    const record: SentBatchRecord = {
      version: 1,
      batch: n,
      sentAt,
      instanceIds: call.instanceIds,
      ...(call.invokeId ? { invokeId: call.invokeId } : {}),
      ...(call.commandId ? { commandId: call.commandId } : {}),
      ...(call.error ? { error: { code: call.error.code, message: redactor.redact(call.error.message) } } : {}),
      setAside: call.setAside,
    };
    const written = await deps.store.put(runKeys.fanOutSent(runId, n), JSON.stringify(record), { forbidOverwrite: true, contentType: 'application/json' });
    const kept = written === 'written' ? record : ((await readJson(deps.store, runKeys.fanOutSent(runId, n), (v) => sentBatchRecordSchema.parse(v))) ?? record);
    log.sent.set(n, kept);
    log.unrecorded.delete(n);
    sent.push(n);
    if (call.error) logger.warn('batch not sent', { runId, batch: n, instances: call.instanceIds.length, code: call.error.code, error: call.error.message });
    // Recorded first, then the marker read: a stop that read the log before this record finds us here.
    if (kept.invokeId && (await isStopRequested(deps.store, runId))) {
      await (await deps.assistant()).stopInvocation({ RegionId: deps.regionId, InvokeId: kept.invokeId }).catch((e: unknown) => logger.warn('stop invocation failed', { runId, invokeId: kept.invokeId, error: (e as Error).message }));
    }
  };

  // A worker that fails stops the others from deciding more; the calls already under way finish
  // and are recorded before the failure is thrown, so nothing goes out after the caller gave up.
  let failing = false;
  const worker = async () => {
    try {
      for (let n = stale.shift(); n !== undefined && !failing; n = stale.shift()) {
        logger.warn('batch decided and never recorded: sending it again under its ClientToken', { runId, batch: n });
        await send(n);
      }
      for (let n = failing ? undefined : await nextDue(); n !== undefined; n = failing ? undefined : await nextDue()) await send(n);
    } catch (e) {
      failing = true;
      throw e;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, deps.callConcurrency ?? 4) }, worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;

  const invocations = invocationsOf(log);
  const decidedAll = log.end !== undefined || log.next >= plan.batches.length;
  if (!decidedAll || decidedSends(log).some((n) => !log.sent.has(n))) return { manifest, invocations, sent, finalized: false };

  const final = finalManifest(manifest, plan, log);
  // The notice goes before the final manifest: the run cannot be complete, nor its summary sent, until that is written.
  if (final.replyTo && deps.chat.dispatched) {
    const first = await deps.store.put(runKeys.sentNotice(runId), now().toISOString(), { forbidOverwrite: true });
    if (first === 'written') await deps.chat.dispatched(final).catch((e: unknown) => deps.logger.warn('chat reply failed', { runId, error: (e as Error).message }));
  }
  await deps.store.put(runKeys.manifest(runId), JSON.stringify(final, null, 2), { contentType: 'application/json' });
  return { manifest: final, invocations: final.invocations, sent, finalized: true };
}

/** The calls a run has sent so far: its manifest's once the fan-out is done, its log's while open. */
export async function invocationsSoFar(manifest: RunManifest, store: ObjectStore): Promise<RunManifest['invocations']> {
  if (manifest.fanOut === 'done') return manifest.invocations;
  return invocationsOf(await readLog(store, manifest.runId));
}

/** The invocation batch `batch` of a run went out as, from the log; undefined until it is recorded. */
export async function recordedInvocation(store: ObjectStore, runId: string, batch: number): Promise<SentBatchRecord | undefined> {
  return readJson(store, runKeys.fanOutSent(runId, batch), (v) => sentBatchRecordSchema.parse(v));
}
