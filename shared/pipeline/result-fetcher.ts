/**
 * Results read from the service when no output bucket is configured. A poller asks every few
 * seconds per invocation whether or not anything finished; the fetcher asks only when an event
 * says something did, and never more often than that poller: by any moment, a command has had at
 * most as many reads as a poller started with the run would have made (one per interval, at least
 * one). The budget holds across FC instances (each serves one event at a time on FC 3.0's
 * nodejs20): a read needs its interval slot's create-once claim in OSS (read-slots.ts).
 *
 * The claimant waits `gatherMs` for near-simultaneous finishes, then makes ONE read of the whole
 * invocation — DescribeInvocations with IncludeOutput, or DescribeInvocationResults pages by
 * CommandId when events name no invocation (or only its own instances, for a single-target run or
 * outputs delivered to OSS whose delivery lags) — and sends the result of every instance it found
 * finished, not only its own events', through the requests' publisher (so redaction is
 * task-events' own), then records them in the slot's done. An event whose slot is taken waits for
 * that done: listed, its result is already on its way; not listed, it tries the next slot when it
 * opens. A claim whose holder died blocks nobody past the next slot. Requests in one process share
 * one claim and one read.
 */
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant, InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';
import { isFinal } from '../cloud-assistant/statuses.ts';
import type { ResultJson } from '../queue/result-packing.ts';
import type { ObjectStore } from '../store/port.ts';
import { ReadSlots, slotAt, slotOpensAt } from './read-slots.ts';

export interface ResultFetcherOptions {
  /** How long a claimant waits for others to share its read. */
  gatherMs: number;
  /** The poller's interval the reads are held to; 0 lifts the budget (no claims). */
  intervalMs: number;
  /** Longest a request waits for a read before it gives up (the event is delivered again); well inside the function's timeout. */
  maxWaitMs?: number;
  /** First pause between looks for a taken slot's done; it doubles up to a second. */
  donePollMs?: number;
  /** How long past its gather window a claim's done is awaited before its holder counts as dead (default 10 s). */
  holderGraceMs?: number;
}

/** Sends the results of instances found finished by a read. */
export interface ReadPublisher {
  /** The result for an instance whose event is not among the waiting requests; undefined to send none. */
  messageFor(result: ServiceResult): Promise<ResultJson | undefined>;
  /** Sends them through the results queue (packed into messages there). */
  send(results: ResultJson[]): Promise<void>;
}

export interface FetchRequest {
  runId: string;
  commandId: string;
  invokeId: string | undefined;
  instanceId: string;
  /** When the run started (ms): the poller this is held to would have started then. */
  since: number;
  /** The InvokeId the run's manifest records for the command, when the event names none: it is read whole, the budget still kept per CommandId. */
  recordedInvokeId?: string | undefined;
  /**
   * Read the requests' own instances only and send nothing for others: the run has one target, or
   * the others' whole outputs are delivered to OSS (a 24 KB tail sent for them would win the race).
   * One instance is then read alone, with DescribeInvocationResults.
   */
  onlyThese?: boolean;
  /**
   * The latest moment (ms) this request may still be waiting: its invocation's deadline less what
   * the caller needs after it. Past it, or past `maxWaitMs`, whichever comes first, it is deferred.
   */
  giveUpAt?: number | undefined;
  /** This request's own result from what the read found (undefined: the service has no result for it). */
  message(result: ServiceResult | undefined): Promise<ResultJson>;
  publisher: ReadPublisher;
}

/** 'read': a read made here sent it; 'covered': an earlier read or another instance's did. */
export type FetchOutcome = 'read' | 'covered';

export class FetchDeferredError extends Error {
  override readonly name = 'FetchDeferredError';
}

interface Waiter {
  request: FetchRequest;
  giveUpAt: number;
  resolve: (o: FetchOutcome) => void;
  reject: (e: unknown) => void;
}

interface ScopeState {
  slots: ReadSlots;
  runId: string;
  commandId: string;
  /** What reads name: the events' InvokeId, or the manifest's record of it. */
  invokeId: string | undefined;
  since: number;
  onlyThese: boolean;
  waiters: Waiter[];
  running: boolean;
  /** The highest slot this process claimed or waited on. */
  lastSlot: number;
}

const DEFAULT_MAX_WAIT_MS = 40_000;
const DEFAULT_DONE_POLL_MS = 100;
/**
 * A claimant's done is awaited this long past its gather window before its holder counts as dead:
 * on a loaded host a read and its sends take seconds (7 s seen in the e2e on two busy cores), and a
 * second read meanwhile would only send the same results again.
 */
const DEFAULT_HOLDER_GRACE_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export class ResultFetcher {
  private readonly scopes = new Map<string, ScopeState>();
  /** ECS read calls made here, over every command. */
  calls = 0;
  /** Result messages sent for instances whose events were not among the requests here. */
  sentForOthers = 0;

  constructor(
    private readonly assistant: () => Promise<CloudAssistant>,
    private readonly regionId: string,
    private readonly store: ObjectStore,
    private readonly options: ResultFetcherOptions,
  ) {}

  private get holderGraceMs(): number {
    return this.options.holderGraceMs ?? DEFAULT_HOLDER_GRACE_MS;
  }

  /** Settles once the instance's result message has been sent, here or by another read. */
  fetch(request: FetchRequest): Promise<FetchOutcome> {
    const scope = request.invokeId ?? request.commandId;
    const key = `${request.runId}/${scope}`;
    let s = this.scopes.get(key);
    if (!s) {
      s = { slots: new ReadSlots(this.store, request.runId, scope), runId: request.runId, commandId: request.commandId, invokeId: request.invokeId ?? request.recordedInvokeId, since: request.since, onlyThese: request.onlyThese === true, waiters: [], running: false, lastSlot: -1 };
      this.scopes.set(key, s);
    }
    s.invokeId ??= request.invokeId ?? request.recordedInvokeId;
    const state = s;
    const answer = new Promise<FetchOutcome>((resolve, reject) =>
      state.waiters.push({ request, giveUpAt: Math.min(Date.now() + (this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS), request.giveUpAt ?? Number.POSITIVE_INFINITY), resolve, reject }),
    );
    if (!s.running) void this.serve(key, s);
    return answer;
  }

  private async serve(key: string, s: ScopeState): Promise<void> {
    s.running = true;
    try {
      while (s.waiters.length > 0) {
        if (this.options.intervalMs === 0) {
          await sleep(this.options.gatherMs);
          await this.read(s, undefined);
          continue;
        }
        const slot = await this.nextSlot(s);
        if (slot === undefined) continue;
        s.lastSlot = slot;
        if (await s.slots.claim(slot)) await this.read(s, slot);
        else await this.awaitDone(s, slot);
      }
    } catch (e) {
      for (const w of s.waiters.splice(0)) w.reject(e);
    } finally {
      s.running = false;
      // Waiters that came while the last step settled still need serving; an idle scope is forgotten.
      if (s.waiters.length > 0) void this.serve(key, s);
      else if (this.scopes.get(key) === s) this.scopes.delete(key);
    }
  }

  /** The next slot to try, once it is open; undefined when every waiter gave up meanwhile. */
  private async nextSlot(s: ScopeState): Promise<number | undefined> {
    const { intervalMs, gatherMs } = this.options;
    const slot = Math.max(slotAt(s.since, intervalMs, Date.now()), s.lastSlot + 1);
    const opens = slotOpensAt(s.since, intervalMs, slot);
    for (const w of [...s.waiters]) {
      if (w.giveUpAt >= opens + gatherMs) continue;
      s.waiters.splice(s.waiters.indexOf(w), 1);
      w.reject(new FetchDeferredError(`no read of ${w.request.instanceId}'s result is allowed before ${new Date(opens).toISOString()} (one per ${intervalMs} ms since the run began); the event is to be delivered again`));
    }
    if (s.waiters.length === 0) return undefined;
    await sleep(opens - Date.now());
    return slot;
  }

  /** One read for every waiter; the results of all finished instances it found go out before the done. */
  private async read(s: ScopeState, slot: number | undefined): Promise<void> {
    await sleep(this.options.gatherMs);
    const waiters = s.waiters.splice(0);
    let covered: Set<string>;
    try {
      const before = slot === undefined ? new Set<string>() : await s.slots.coveredBefore(slot, this.options.gatherMs + this.holderGraceMs, this.options.donePollMs ?? DEFAULT_DONE_POLL_MS);
      covered = new Set(before);
      const pending = waiters.filter((w) => !before.has(w.request.instanceId));
      for (const w of waiters) if (before.has(w.request.instanceId)) w.resolve('covered');
      if (pending.length > 0) {
        const results = await this.describe(s, new Set(pending.map((w) => w.request.instanceId)));
        const bodies: ResultJson[] = [];
        for (const w of pending) {
          bodies.push(await w.request.message(results.get(w.request.instanceId)));
          covered.add(w.request.instanceId);
        }
        const publisher = pending[0]!.request.publisher;
        let others = 0;
        for (const r of s.onlyThese ? [] : results.values()) {
          if (covered.has(r.instanceId) || !isFinal(r.status)) continue;
          const body = await publisher.messageFor(r);
          if (body === undefined) continue;
          bodies.push(body);
          covered.add(r.instanceId);
          others++;
        }
        await publisher.send(bodies);
        this.sentForOthers += others;
      }
      if (slot !== undefined) await s.slots.markDone(slot, covered);
    } catch (e) {
      // A settled promise ignores this: only the waiters still open fail (their events come again).
      for (const w of waiters) w.reject(e);
      return;
    }
    for (const w of waiters) w.resolve('read');
    this.settleCovered(s, covered);
  }

  /** Waits for a taken slot's done; past the next slot's opening and a grace for a slow holder, the holder counts as gone. */
  private async awaitDone(s: ScopeState, slot: number): Promise<void> {
    const { intervalMs, gatherMs } = this.options;
    const until = Math.max(slotOpensAt(s.since, intervalMs, slot + 1), Date.now() + gatherMs + this.holderGraceMs);
    const done = await s.slots.awaitDone(slot, until, this.options.donePollMs ?? DEFAULT_DONE_POLL_MS);
    if (done) this.settleCovered(s, done);
  }

  private settleCovered(s: ScopeState, covered: Set<string>): void {
    for (const w of [...s.waiters]) {
      if (!covered.has(w.request.instanceId)) continue;
      s.waiters.splice(s.waiters.indexOf(w), 1);
      w.resolve('covered');
    }
  }

  /**
   * Every instance one read finds: the whole invocation (DescribeInvocations with IncludeOutput), the
   * command's pages until the wanted ones are found when events name no invocation, or one
   * instance's result alone when only it is wanted.
   */
  private async describe(s: ScopeState, wanted: Set<string>): Promise<Map<string, ServiceResult>> {
    const assistant = await this.assistant();
    const out = new Map<string, ServiceResult>();
    const sole = s.onlyThese && wanted.size === 1 ? [...wanted][0]! : undefined;
    if (s.invokeId && !sole) {
      this.calls++;
      const page = await assistant.describeInvocations({ RegionId: this.regionId, InvokeId: s.invokeId, IncludeOutput: true, ContentEncoding: 'PlainText' });
      for (const inv of page.items) for (const r of inv.instances) out.set(r.instanceId, r);
      return out;
    }
    // Events that name no invocation (documented fields only): page the command's results.
    let nextToken: string | undefined;
    do {
      this.calls++;
      const page = await assistant.describeInvocationResults({
        RegionId: this.regionId,
        ...(s.invokeId ? { InvokeId: s.invokeId } : { CommandId: s.commandId }),
        ...(sole ? { InstanceId: sole } : {}),
        ContentEncoding: 'PlainText',
        MaxResults: LIMITS.pageSize,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const r of page.items) out.set(r.instanceId, r);
      nextToken = [...wanted].some((id) => !out.has(id)) ? page.nextToken : undefined;
    } while (nextToken);
    return out;
  }
}
