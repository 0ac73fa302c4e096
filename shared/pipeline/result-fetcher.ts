/**
 * Results read from the service when no output bucket is configured. A poller asks every few
 * seconds per invocation whether or not anything finished; the fetcher asks only when an event
 * says something did, and never more often than a poller with the same interval would: the first
 * request for a command is answered at once (after a short gathering delay), and requests that
 * come while the command was asked within the interval wait for its end and share one call.
 * One instance to fetch: DescribeInvocationResults for that instance. Several: one
 * DescribeInvocations with IncludeOutput, which carries every instance of the invocation.
 */
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant, InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';

export interface ResultFetcherOptions {
  /** How long the first request waits for others to share its call. */
  gatherMs: number;
  /** At most one read per command within this interval. */
  intervalMs: number;
}

interface Waiter {
  instanceId: string;
  resolve: (r: ServiceResult | undefined) => void;
  reject: (e: unknown) => void;
}

interface CommandState {
  invokeId: string | undefined;
  /** Instances asked for since the last call went out. */
  pending: Set<string>;
  waiters: Waiter[];
  flushTimer: NodeJS.Timeout | undefined;
  lastCallAt: number;
}

export class ResultFetcher {
  private readonly commands = new Map<string, CommandState>();
  /** ECS read calls made, for the benchmark's count. */
  calls = 0;

  constructor(
    private readonly assistant: () => Promise<CloudAssistant>,
    private readonly regionId: string,
    private readonly options: ResultFetcherOptions,
  ) {}

  /** The service's result for one instance of a command; undefined if it has none (yet). */
  fetch(commandId: string, invokeId: string | undefined, instanceId: string): Promise<ServiceResult | undefined> {
    let s = this.commands.get(commandId);
    if (!s) {
      s = { invokeId, pending: new Set(), waiters: [], flushTimer: undefined, lastCallAt: Number.NEGATIVE_INFINITY };
      this.commands.set(commandId, s);
    }
    s.invokeId ??= invokeId;
    s.pending.add(instanceId);
    const state = s;
    const answer = new Promise<ServiceResult | undefined>((resolve, reject) => state.waiters.push({ instanceId, resolve, reject }));
    if (!s.flushTimer) {
      const wait = Math.max(this.options.gatherMs, s.lastCallAt + this.options.intervalMs - Date.now());
      s.flushTimer = setTimeout(() => void this.flush(commandId, state), wait);
    }
    return answer;
  }

  private async flush(commandId: string, s: CommandState): Promise<void> {
    const instanceIds = s.pending;
    const waiters = s.waiters;
    s.pending = new Set();
    s.waiters = [];
    s.flushTimer = undefined;
    s.lastCallAt = Date.now();
    try {
      const results = await this.describe(commandId, s.invokeId, instanceIds);
      for (const w of waiters) w.resolve(results.get(w.instanceId));
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
    // A command nobody asked about for a whole interval is forgotten, so a warm instance stays small.
    setTimeout(() => {
      if (this.commands.get(commandId) === s && !s.flushTimer && Date.now() - s.lastCallAt >= this.options.intervalMs) this.commands.delete(commandId);
    }, this.options.intervalMs).unref();
  }

  private async describe(commandId: string, invokeId: string | undefined, instanceIds: Set<string>): Promise<Map<string, ServiceResult>> {
    const assistant = await this.assistant();
    const out = new Map<string, ServiceResult>();
    if (instanceIds.size > 1 && invokeId) {
      this.calls++;
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
