/**
 * Fans one command out to any number of instances: calls of at most 100 (RunCommand) or 50
 * (InvokeCommand) instances, a limit on calls in flight, and rate control in the manner of SSM's
 * MaxConcurrency (instances running at once) and MaxErrors (stop sending once too many failed).
 *
 * Each batch's ClientToken is derived from the run id and the batch number, so dispatching the same
 * run again (a retried function, a restarted process) reuses the tokens and runs nothing twice.
 */
import { LIMITS } from './constants.ts';
import { ServiceCallError, toServiceCallError } from './errors.ts';
import type { CloudAssistant } from './port.ts';
import type { InvokeCommandRequest } from './requests/invoke-command.ts';
import type { RunCommandRequest } from './requests/run-command.ts';

/** A count, or a percentage of the targets (`'10%'`), as SSM writes MaxConcurrency and MaxErrors. */
export type CountOrPercent = number | `${number}%`;

export type DispatchCommand =
  | { kind: 'run'; request: Omit<RunCommandRequest, 'InstanceId' | 'ResourceTag' | 'ClientToken'> }
  | { kind: 'invoke'; request: Omit<InvokeCommandRequest, 'InstanceId' | 'ResourceTag' | 'ClientToken'> };

/** Tells the dispatcher when instances finish; fed by TaskCompleted events (or a reconciler). */
export interface CompletionFeed {
  subscribe(listener: (done: { instanceId: string; failed: boolean }) => void): () => void;
}

export interface DispatchPlan {
  /** Our run's id; ClientTokens are `<runId>-b<batch>`, so it must be ≤ 56 printable ASCII characters. */
  runId: string;
  command: DispatchCommand;
  instanceIds: string[];
  /** Calls in flight at once. */
  callConcurrency?: number;
  /**
   * Calls started per second at most, to stay under the account's API rate limit instead of
   * running into it: throttled calls cost a retry each, paced calls cost nothing.
   */
  ratePerSecond?: number;
  /** Instances running at once; needs `completions`. Unlimited when omitted. */
  maxConcurrency?: CountOrPercent;
  /** Stop sending to more instances once more than this many failed (instances of a failed call count). */
  maxErrors?: CountOrPercent;
  completions?: CompletionFeed;
}

export interface BatchOutcome {
  batch: number;
  instanceIds: string[];
  invokeId?: string;
  commandId?: string;
  error?: ServiceCallError;
}

export interface DispatchResult {
  batches: BatchOutcome[];
  /** Instances a command was sent to. */
  dispatched: string[];
  /** Instances never sent to, because max-errors stopped the run. */
  notDispatched: string[];
  stoppedBy?: 'max-errors';
}

export function resolveCount(value: CountOrPercent | undefined, total: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return Math.max(0, Math.floor(value));
  const pct = Number(value.slice(0, -1));
  if (!Number.isFinite(pct) || pct < 0) throw new RangeError(`"${value}" is not a percentage`);
  return Math.floor((pct / 100) * total);
}

export class DispatchPlanError extends Error {
  override readonly name = 'DispatchPlanError';
}

export async function dispatch(assistant: CloudAssistant, plan: DispatchPlan): Promise<DispatchResult> {
  if (!/^[\x21-\x7e]{1,56}$/.test(plan.runId)) throw new DispatchPlanError('runId must be 1 to 56 printable ASCII characters without spaces');
  const ids = [...new Set(plan.instanceIds)];
  const perCall = plan.command.kind === 'run' ? LIMITS.runCommandInstances : LIMITS.invokeCommandInstances;
  const maxConcurrency = plan.maxConcurrency === undefined ? Infinity : Math.max(1, resolveCount(plan.maxConcurrency, ids.length, ids.length));
  if (maxConcurrency !== Infinity && !plan.completions) throw new DispatchPlanError('maxConcurrency needs a completion feed to know when instances finish');
  const maxErrors = plan.maxErrors === undefined ? Infinity : resolveCount(plan.maxErrors, ids.length, ids.length);
  const batchSize = Math.min(perCall, maxConcurrency);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));

  const outcomes: BatchOutcome[] = [];
  const dispatched: string[] = [];
  let inFlightInstances = 0;
  let errors = 0;
  let stopped = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const ours = new Set(ids);
  const finished = new Set<string>();
  const unsubscribe = plan.completions?.subscribe(({ instanceId, failed }) => {
    // At-least-once feeds repeat themselves: an instance frees its slot and counts as an error once.
    if (!ours.has(instanceId) || finished.has(instanceId)) return;
    finished.add(instanceId);
    inFlightInstances--;
    if (failed) errors++;
    wake();
  });

  let next = 0;
  const interval = plan.ratePerSecond && plan.ratePerSecond > 0 ? 1000 / plan.ratePerSecond : 0;
  let nextSlot = Date.now();
  /** Waits for this call's start slot: slots are spaced evenly, shared by all workers. */
  async function paced(): Promise<void> {
    if (!interval) return;
    const slot = Math.max(nextSlot, Date.now());
    nextSlot = slot + interval;
    if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
  }
  async function worker(): Promise<void> {
    while (true) {
      if (errors > maxErrors) stopped = true;
      if (stopped || next >= batches.length) return;
      const batch = next;
      const targets = batches[batch]!;
      if (inFlightInstances + targets.length > maxConcurrency) {
        await new Promise<void>((resolve) => waiters.add(resolve));
        continue;
      }
      next++;
      inFlightInstances += targets.length;
      const clientToken = `${plan.runId}-b${batch}`;
      await paced();
      try {
        const sent: { invokeId: string; commandId?: string } =
          plan.command.kind === 'run'
            ? await assistant.runCommand({ ...plan.command.request, InstanceId: targets, ClientToken: clientToken })
            : await assistant.invokeCommand({ ...plan.command.request, InstanceId: targets, ClientToken: clientToken });
        outcomes.push({ batch, instanceIds: targets, ...sent });
        dispatched.push(...targets);
      } catch (e) {
        outcomes.push({ batch, instanceIds: targets, error: toServiceCallError(plan.command.kind === 'run' ? 'RunCommand' : 'InvokeCommand', e) });
        inFlightInstances -= targets.length;
        errors += targets.length;
        wake();
      }
    }
  }

  try {
    const workers = Array.from({ length: Math.max(1, plan.callConcurrency ?? 4) }, () => worker());
    await Promise.all(workers);
  } finally {
    unsubscribe?.();
  }
  if (errors > maxErrors) stopped = true;
  const sentOrFailed = new Set(outcomes.flatMap((o) => o.instanceIds));
  outcomes.sort((a, b) => a.batch - b.batch);
  return {
    batches: outcomes,
    dispatched,
    notDispatched: ids.filter((id) => !sentOrFailed.has(id)),
    ...(stopped ? { stoppedBy: 'max-errors' as const } : {}),
  };
}
