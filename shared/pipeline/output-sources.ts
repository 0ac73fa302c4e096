/**
 * Where an instance's output comes from once its TaskCompleted event arrives (events carry none).
 * With an output bucket, runs are started with OssOutputDelivery and the output is read from OSS:
 * no ECS read at all. Without one, DescribeInvocationResults is asked, and requests for the same
 * command that arrive within a short window share one call (a page holds 50 instances).
 */
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant, InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';
import type { ObjectStore } from '../store/port.ts';

/** The prefix a run's delivered outputs live under, inside the output bucket. */
export function outputPrefixFor(runId: string): string {
  return `fleetrun-output/${runId}/`;
}

/**
 * The service's key layout under the prefix is not documented, so nothing here assumes one: the
 * object that belongs to an instance is the one whose key names it as a whole token.
 */
export async function findDeliveredOutputs(store: ObjectStore, prefix: string, instanceIds: string[]): Promise<Map<string, string>> {
  const wanted = new Set(instanceIds);
  const found = new Map<string, string>();
  for await (const o of store.list(prefix)) {
    for (const token of o.key.slice(prefix.length).split(/[/.]/)) {
      for (const id of wanted) {
        if (token === id || token.startsWith(`${id}_`) || token.endsWith(`_${id}`) || token.startsWith(`${id}-`) || token.endsWith(`-${id}`)) {
          found.set(id, o.key);
          wanted.delete(id);
        }
      }
    }
    if (wanted.size === 0) break;
  }
  return found;
}

interface Pending {
  invokeId: string | undefined;
  instanceIds: Set<string>;
  waiters: { instanceId: string; resolve: (r: ServiceResult | undefined) => void; reject: (e: unknown) => void }[];
}

/** Coalesces DescribeInvocationResults requests per command over a short window. */
export class ResultFetcher {
  private readonly pending = new Map<string, Pending>();
  /** ECS read calls made, for the benchmark's count. */
  calls = 0;

  constructor(
    private readonly assistant: () => Promise<CloudAssistant>,
    private readonly regionId: string,
    private readonly windowMs: number,
  ) {}

  /** The service's result for one instance of a command; undefined if it has none (yet). */
  fetch(commandId: string, invokeId: string | undefined, instanceId: string): Promise<ServiceResult | undefined> {
    let p = this.pending.get(commandId);
    if (!p) {
      p = { invokeId, instanceIds: new Set(), waiters: [] };
      this.pending.set(commandId, p);
      setTimeout(() => void this.flush(commandId), this.windowMs);
    }
    p.invokeId ??= invokeId;
    p.instanceIds.add(instanceId);
    return new Promise((resolve, reject) => p.waiters.push({ instanceId, resolve, reject }));
  }

  private async flush(commandId: string): Promise<void> {
    const p = this.pending.get(commandId)!;
    this.pending.delete(commandId);
    try {
      const results = await this.describe(commandId, p);
      for (const w of p.waiters) w.resolve(results.get(w.instanceId));
    } catch (e) {
      for (const w of p.waiters) w.reject(e);
    }
  }

  private async describe(commandId: string, p: Pending): Promise<Map<string, ServiceResult>> {
    const assistant = await this.assistant();
    const scope = p.invokeId ? { InvokeId: p.invokeId } : { CommandId: commandId };
    const out = new Map<string, ServiceResult>();
    const single = p.instanceIds.size === 1 ? [...p.instanceIds][0]! : undefined;
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
      for (const r of page.items) if (p.instanceIds.has(r.instanceId)) out.set(r.instanceId, r);
      nextToken = out.size < p.instanceIds.size ? page.nextToken : undefined;
    } while (nextToken);
    return out;
  }
}
