/**
 * Fans one command out to any number of instances: calls of at most 100 (RunCommand) or 50
 * (InvokeCommand) instances, a limit on calls in flight, and rate control in the manner of SSM's
 * MaxConcurrency (instances running at once) and MaxErrors (stop sending once too many failed).
 *
 * Each batch's ClientToken is derived from the run id and the batch number, so dispatching the same
 * run again (a retried function, a restarted process) reuses the tokens and runs nothing twice.
 * For the same reason a batch whose call still fails with a transient error after the client's
 * retries is sent again in a later round: the error leaves unknown whether the write was applied
 * (a 5xx can follow an applied write whose answer was lost), and giving up would report instances
 * as never sent while they run. The same token either applies it now or returns the first answer.
 *
 * One instance that stopped (or was released) after targeting makes the service refuse its whole
 * call; the batch's instances are then looked up again, the ones that can no longer run are set
 * aside with their reason, and the rest are sent once more under a token of their own.
 */
import { LIMITS } from './constants.ts';
import { ServiceCallError, toServiceCallError } from './errors.ts';
import type { CloudAssistant } from './port.ts';
import { isRetryable } from './retry.ts';
import { resolveTargets, type ResolvedTargets } from './targets.ts';
import type { InvokeCommandRequest } from './requests/invoke-command.ts';
import type { RunCommandRequest } from './requests/run-command.ts';

/** Errors by which the service refuses a whole call for the state of one of its instances. */
const INSTANCE_STATE_ERRORS = new Set(['InvalidInstance.NotMatch', 'InvalidInstance.NotFound']);

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
  /**
   * Request fields that differ from call to call, by batch number (the n in `<runId>-b<n>`): e.g.
   * a command name or an output prefix that tells later readers which call an instance was in.
   */
  perBatch?: (batch: number) => { Name?: string; OssOutputDelivery?: string };
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
  /**
   * Rounds a batch is sent in at most while its call fails with a transient error (throttling,
   * 5xx), each after the client's own retries; default 3. Its ClientToken never changes.
   */
  sendRounds?: number;
  /** Pause before a batch's next round, in ms (default 1,000): the API was failing a moment ago. */
  roundDelayMs?: number;
  /**
   * Aborted when someone stops the run while it is being dispatched: no further batch is sent
   * (calls already under way finish), and the rest are reported in `notDispatched`.
   */
  signal?: AbortSignal;
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
  /** Instances never sent to, because max-errors or a stop request ended the fan-out. */
  notDispatched: string[];
  /** Instances found unable to run when the service refused their call (stopped or released since targeting). */
  setAside: ResolvedTargets['skipped'];
  stoppedBy?: 'max-errors' | 'stop-requested';
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

/** What one call of a fan-out needs: the run's id (its ClientTokens), the command, and each call's own fields. */
export type BatchCall = Pick<DispatchPlan, 'runId' | 'command' | 'perBatch'>;

/**
 * One call for batch `batch`. Its ClientToken is `<runId>-b<batch>`, and `-n` once narrowed: a
 * narrowed batch has other instances, so it cannot reuse the first token (IdempotentParameterMismatch).
 */
async function callBatch(assistant: CloudAssistant, call: BatchCall, batch: number, targets: string[], narrowed: boolean): Promise<{ invokeId: string; commandId?: string }> {
  const clientToken = `${call.runId}-b${batch}${narrowed ? '-n' : ''}`;
  const own = call.perBatch?.(batch) ?? {};
  return call.command.kind === 'run'
    ? assistant.runCommand({ ...call.command.request, ...own, InstanceId: targets, ClientToken: clientToken })
    : assistant.invokeCommand({ ...call.command.request, ...(own.OssOutputDelivery ? { OssOutputDelivery: own.OssOutputDelivery } : {}), InstanceId: targets, ClientToken: clientToken });
}

/** The batch looked up again: what can still run, when that is fewer than it holds. */
async function stillRunnable(assistant: CloudAssistant, targets: string[]): Promise<ResolvedTargets | undefined> {
  const again = await resolveTargets(assistant, { instanceIds: targets }).catch(() => undefined);
  return again && again.runnable.length < targets.length ? again : undefined;
}

/** One batch sent: where it went (narrowed when some of its instances could no longer run), or why it was not. */
export interface SentBatch extends BatchOutcome {
  setAside: ResolvedTargets['skipped'];
}

/**
 * Sends one batch of a fan-out on its own, as {@link dispatch} sends each of its batches: a call
 * refused for the state of one of its instances is narrowed to those that can still run (once), a
 * transient failure is tried again under the same ClientToken for up to `sendRounds` rounds
 * `roundDelayMs` apart, and anything else is the batch's error. Sending the same batch again — a
 * caller that took over a batch whose sender died — gets the first call's InvokeId back.
 */
export async function sendBatch(
  assistant: CloudAssistant,
  call: BatchCall & Pick<DispatchPlan, 'sendRounds' | 'roundDelayMs'>,
  batch: number,
  targets: string[],
): Promise<SentBatch> {
  const sendRounds = Math.max(1, call.sendRounds ?? 3);
  const setAside: ResolvedTargets['skipped'] = [];
  let instanceIds = targets;
  let narrowed = false;
  for (let round = 1; ; ) {
    try {
      return { batch, instanceIds, ...(await callBatch(assistant, call, batch, instanceIds, narrowed)), setAside };
    } catch (e) {
      const error = toServiceCallError(call.command.kind === 'run' ? 'RunCommand' : 'InvokeCommand', e);
      const runnable = INSTANCE_STATE_ERRORS.has(error.code) && !narrowed ? await stillRunnable(assistant, instanceIds) : undefined;
      if (runnable) {
        narrowed = true;
        instanceIds = runnable.runnable;
        setAside.push(...runnable.skipped);
        if (instanceIds.length === 0) return { batch, instanceIds, setAside };
      } else if (isRetryable(error) && round < sendRounds) {
        round++;
        await new Promise((r) => setTimeout(r, call.roundDelayMs ?? 1000));
      } else {
        return { batch, instanceIds, error, setAside };
      }
    }
  }
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

  const onAbort = () => {
    stopped = true;
    wake();
  };
  plan.signal?.addEventListener('abort', onAbort);
  if (plan.signal?.aborted) stopped = true;
  const sendRounds = Math.max(1, plan.sendRounds ?? 3);
  const roundDelayMs = plan.roundDelayMs ?? 1000;
  /** Batches still to send, in order; a batch sent again goes to the back. */
  const queue = batches.map((_, n) => n);
  const rounds = new Map<number, number>();
  /** Batches sent again without the instances that made the service refuse them; each once at most. */
  const narrowed = new Set<number>();
  const setAside: ResolvedTargets['skipped'] = [];
  let calling = 0;
  const interval = plan.ratePerSecond && plan.ratePerSecond > 0 ? 1000 / plan.ratePerSecond : 0;
  let nextSlot = Date.now();
  /** Waits for this call's start slot: slots are spaced evenly, shared by all workers. */
  async function paced(): Promise<void> {
    if (!interval) return;
    const slot = Math.max(nextSlot, Date.now());
    nextSlot = slot + interval;
    if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
  }
  const waitForChange = () => new Promise<void>((resolve) => waiters.add(resolve));
  async function worker(): Promise<void> {
    while (true) {
      if (errors > maxErrors) stopped = true;
      if (stopped) return;
      if (queue.length === 0) {
        // A call still under way may put its batch back for another round.
        if (calling === 0) return;
        await waitForChange();
        continue;
      }
      const batch = queue[0]!;
      const targets = batches[batch]!;
      if (inFlightInstances + targets.length > maxConcurrency) {
        await waitForChange();
        continue;
      }
      queue.shift();
      inFlightInstances += targets.length;
      calling++;
      try {
        await paced();
        const sent = await callBatch(assistant, plan, batch, targets, narrowed.has(batch));
        outcomes.push({ batch, instanceIds: targets, ...sent });
        dispatched.push(...targets);
      } catch (e) {
        const error = toServiceCallError(plan.command.kind === 'run' ? 'RunCommand' : 'InvokeCommand', e);
        inFlightInstances -= targets.length;
        const round = rounds.get(batch) ?? 1;
        const runnable = INSTANCE_STATE_ERRORS.has(error.code) && !narrowed.has(batch) ? await stillRunnable(assistant, targets) : undefined;
        if (runnable) {
          narrowed.add(batch);
          batches[batch] = runnable.runnable;
          setAside.push(...runnable.skipped);
          if (runnable.runnable.length > 0) queue.push(batch);
        } else if (isRetryable(error) && round < sendRounds && !stopped) {
          rounds.set(batch, round + 1);
          await new Promise((r) => setTimeout(r, roundDelayMs));
          queue.push(batch);
        } else {
          outcomes.push({ batch, instanceIds: targets, error });
          errors += targets.length;
        }
      } finally {
        calling--;
        wake();
      }
    }
  }

  try {
    const workers = Array.from({ length: Math.max(1, plan.callConcurrency ?? 4) }, () => worker());
    await Promise.all(workers);
  } finally {
    unsubscribe?.();
    plan.signal?.removeEventListener('abort', onAbort);
  }
  const sentOrFailed = new Set([...outcomes.flatMap((o) => o.instanceIds), ...setAside.map((s) => s.instanceId)]);
  const notDispatched = ids.filter((id) => !sentOrFailed.has(id));
  const stoppedBy = errors > maxErrors ? ('max-errors' as const) : plan.signal?.aborted && notDispatched.length > 0 ? ('stop-requested' as const) : undefined;
  outcomes.sort((a, b) => a.batch - b.batch);
  return { batches: outcomes, dispatched, notDispatched, setAside, ...(stoppedBy ? { stoppedBy } : {}) };
}
