/**
 * Results read from the service when no output bucket is configured. A poller asks every few
 * seconds per invocation whether or not anything finished; the fetcher asks only when an event
 * says something did, and never more often than that poller: by any moment, a command has had at
 * most as many reads as a poller started with the run would have made (one per interval, at least
 * one). Reads a quiet spell saved are spent at once when events come, so a result is read as soon
 * as its event arrives unless events are coming faster than the poller would read; requests that
 * must wait share one call. One instance to fetch: DescribeInvocationResults for that instance.
 * Several: one DescribeInvocations with IncludeOutput, which carries every instance of the
 * invocation.
 */
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant, InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';

export interface ResultFetcherOptions {
  /** How long the first request waits for others to share its call. */
  gatherMs: number;
  /** The poller's interval the reads are held to. */
  intervalMs: number;
}

interface Waiter {
  instanceId: string;
  resolve: (r: ServiceResult | undefined) => void;
  reject: (e: unknown) => void;
}

interface CommandState {
  invokeId: string | undefined;
  /** When the run started (ms): the poller this is held to would have started then. */
  since: number;
  calls: number;
  /** Instances asked for since the last call went out. */
  pending: Set<string>;
  waiters: Waiter[];
  flushTimer: NodeJS.Timeout | undefined;
  lastCallAt: number;
}

/** A command nobody asked about for this long is forgotten, so a warm instance stays small. */
const FORGET_AFTER_MS = 3_600_000;

export class ResultFetcher {
  private readonly commands = new Map<string, CommandState>();
  /** ECS read calls made, over every command. */
  calls = 0;

  constructor(
    private readonly assistant: () => Promise<CloudAssistant>,
    private readonly regionId: string,
    private readonly options: ResultFetcherOptions,
  ) {}

  /** The service's result for one instance of a command started at `since` (ms); undefined if it has none (yet). */
  fetch(commandId: string, invokeId: string | undefined, instanceId: string, since: number): Promise<ServiceResult | undefined> {
    let s = this.commands.get(commandId);
    if (!s) {
      s = { invokeId, since, calls: 0, pending: new Set(), waiters: [], flushTimer: undefined, lastCallAt: Number.NEGATIVE_INFINITY };
      this.commands.set(commandId, s);
    }
    s.invokeId ??= invokeId;
    s.pending.add(instanceId);
    const state = s;
    const answer = new Promise<ServiceResult | undefined>((resolve, reject) => state.waiters.push({ instanceId, resolve, reject }));
    if (!s.flushTimer) s.flushTimer = setTimeout(() => void this.flush(commandId, state), this.waitFor(s));
    return answer;
  }

  /** How long the next call must wait so the command's reads never outnumber the poller's. */
  private waitFor(s: CommandState): number {
    const { intervalMs, gatherMs } = this.options;
    const now = Date.now();
    const allowed = intervalMs === 0 ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((now - s.since) / intervalMs));
    if (s.calls < allowed) return gatherMs;
    return Math.max(gatherMs, s.since + (s.calls + 1) * intervalMs - now);
  }

  private async flush(commandId: string, s: CommandState): Promise<void> {
    const instanceIds = s.pending;
    const waiters = s.waiters;
    s.pending = new Set();
    s.waiters = [];
    s.flushTimer = undefined;
    s.lastCallAt = Date.now();
    try {
      const results = await this.describe(commandId, s, instanceIds);
      for (const w of waiters) w.resolve(results.get(w.instanceId));
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
    setTimeout(() => {
      if (this.commands.get(commandId) === s && !s.flushTimer && Date.now() - s.lastCallAt >= FORGET_AFTER_MS) this.commands.delete(commandId);
    }, FORGET_AFTER_MS).unref();
  }

  private async describe(commandId: string, s: CommandState, instanceIds: Set<string>): Promise<Map<string, ServiceResult>> {
    const assistant = await this.assistant();
    const invokeId = s.invokeId;
    const out = new Map<string, ServiceResult>();
    if (instanceIds.size > 1 && invokeId) {
      this.calls++;
      s.calls++;
      const page = await assistant.describeInvocations({ RegionId: this.regionId, InvokeId: invokeId, IncludeOutput: true, ContentEncoding: 'PlainText' });
      for (const inv of page.items) for (const r of inv.instances) if (instanceIds.has(r.instanceId)) out.set(r.instanceId, r);
      return out;
    }
    // One instance, or events that name no invocation (documented fields only): page the results.
    const scope = invokeId ? { InvokeId: invokeId } : { CommandId: commandId };
    const single = instanceIds.size === 1 ? [...instanceIds][0]! : undefined;
    let nextToken: string | undefined;
    do {
      this.calls++;
      s.calls++;
      const page = await assistant.describeInvocationResults({
        RegionId: this.regionId,
        ...scope,
        ...(single ? { InstanceId: single } : {}),
        ContentEncoding: 'PlainText',
        MaxResults: LIMITS.pageSize,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const r of page.items) if (instanceIds.has(r.instanceId)) out.set(r.instanceId, r);
      nextToken = out.size < instanceIds.size ? page.nextToken : undefined;
    } while (nextToken);
    return out;
  }
}
