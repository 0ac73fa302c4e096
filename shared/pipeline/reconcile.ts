/**
 * The reconciler: the only polling left. On a timer tick it looks at every open run. A run whose
 * fan-out is open is moved on from its plan and log alone (fan-out.ts): what is due is sent, a
 * batch whose sender died before recording it is sent again under its ClientToken, and a stop or
 * too many failures end it. Then every call recorded so far — mid-fan-out included — whose results
 * should be in by now (its timeout plus a grace period after it was sent; for calls sent with the
 * run, after the run's start) and are not is read with DescribeInvocationResults, and what it finds
 * goes through the same queue as the event path, where summarize stores it and sends the next
 * wave. A complete run is never read from the service again (one still open has an unconfirmed
 * final reply, which the tick sees through); the calls per tick are capped and counted.
 */
import { isFinal } from '../cloud-assistant/statuses.ts';
import { DEFAULT_REPLY_TAKEOVER_SECONDS } from '../config/env.ts';
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { runKeys } from '../runs/keys.ts';
import { expectedInstances, runDeadline, type RunManifest } from '../runs/manifest.ts';
import { unseal } from '../runs/seal.ts';
import { parseSummaryJson } from '../runs/summary.ts';
import { redactorFor } from '../runtime/redaction.ts';
import type { ResultQueue } from '../queue/port.ts';
import type { ResultJson } from '../queue/result-packing.ts';
import { advanceFanOut } from './fan-out.ts';
import { finishIfComplete, readManifest, settleFinishedRun, type FinishDeps } from './finish-run.ts';
import { resultMessage } from './result-message.ts';
import { resultFromService } from './service-result.ts';
import { StoredResults } from './stored-results.ts';

export interface ReconcileDeps extends FinishDeps {
  assistant: () => Promise<CloudAssistant>;
  queue: ResultQueue;
  regionId: string;
  sealKey?: string | undefined;
  graceSeconds: number;
  /** DescribeInvocationResults calls one tick may make. */
  maxCalls: number;
  now?: Date;
}

export interface ReconcileOutcome {
  runsChecked: number;
  runsRepaired: string[];
  resultsFed: number;
  /** ECS read calls this tick made. */
  calls: number;
  /** Open runs left for a later tick because the call budget ran out. */
  deferred: string[];
}

/**
 * When a call's results are due: its timeout plus the grace after it went out. A call of a run
 * without maxConcurrency went out with the run (its deadline is the run's); a later wave's, when
 * its batch was sent.
 */
function dueAt(manifest: RunManifest, invocation: RunManifest['invocations'][number], graceSeconds: number): number {
  const runDue = runDeadline(manifest, graceSeconds).getTime();
  if (manifest.maxConcurrency === undefined || !invocation.sentAt) return runDue;
  return Math.max(runDue, Date.parse(invocation.sentAt) + (manifest.command.timeoutSeconds + graceSeconds) * 1000);
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const now = deps.now ?? new Date();
  const out: ReconcileOutcome = { runsChecked: 0, runsRepaired: [], resultsFed: 0, calls: 0, deferred: [] };
  const open: string[] = [];
  for await (const o of deps.store.list(runKeys.openPrefix)) open.push(o.key.slice(runKeys.openPrefix.length));

  // One run that cannot be repaired (its fan-out's call refused, a read failing) must not keep the
  // others from theirs: each is tried, and the first failure is thrown once all were.
  const failures: unknown[] = [];
  for (const runId of open) {
    try {
      await reconcileRun(runId, deps, now, out);
    } catch (e) {
      failures.push(e);
      deps.logger.error('run not reconciled this tick; the others are', { runId, error: (e as Error).message });
    }
  }
  if (failures.length > 0) throw failures[0];
  return out;
}

async function reconcileRun(runId: string, deps: ReconcileDeps, now: Date, out: ReconcileOutcome): Promise<void> {
  let manifest = await readManifest(deps.store, runId);
  if (!manifest) return;
  // A summarized run is open only while its final reply is unconfirmed: see that it goes out.
  const summarized = await deps.store.get(runKeys.summaryJson(runId));
  if (summarized) {
    await settleFinishedRun(manifest, parseSummaryJson(summarized.toString('utf8')), deps);
    return;
  }
  // What is stored, read once this tick: by the fan-out's counts, then to see what is missing.
  const stored = new StoredResults(deps.store);
  let invocations = manifest.invocations;
  if (manifest.fanOut === 'open') {
    const opened = manifest;
    const advanced = await advanceFanOut(opened, deps, { finished: () => stored.finished(opened, { earlierLayout: true }), takeOverAfterSeconds: deps.replyTakeoverSeconds ?? DEFAULT_REPLY_TAKEOVER_SECONDS });
    manifest = advanced.manifest;
    invocations = advanced.invocations;
  }
  if (now < runDeadline(manifest, deps.graceSeconds)) return;
  out.runsChecked++;
  const current = manifest;
  const due = invocations.filter((inv) => now.getTime() >= dueAt(current, inv, deps.graceSeconds));
  const expected = expectedInstances(manifest);
  const present = await stored.present(manifest);
  const missing = new Set([...expected].filter((id) => !present.has(id)));
  if (missing.size === 0) {
    // Just read: finishing lists them again, and reads only what it folds.
    await finishIfComplete(manifest, deps, stored);
    return;
  }
  const redactor = redactorFor(manifest.sealedSecrets && deps.sealKey ? unseal(manifest.sealedSecrets, deps.sealKey) : []);
  const bodies: ResultJson[] = [];
  for (const inv of due) {
    if (!inv.instanceIds.some((id) => missing.has(id))) continue;
    let nextToken: string | undefined;
    do {
      if (out.calls >= deps.maxCalls) {
        out.deferred.push(runId);
        break;
      }
      out.calls++;
      const page = await (await deps.assistant()).describeInvocationResults({
        RegionId: deps.regionId,
        InvokeId: inv.invokeId,
        ContentEncoding: 'PlainText',
        MaxResults: LIMITS.pageSize,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const r of page.items) {
        if (!missing.has(r.instanceId) || !isFinal(r.status)) continue;
        missing.delete(r.instanceId);
        const result = resultFromService(runId, r, inv.commandId, redactor);
        bodies.push(await resultMessage(result, deps.store));
      }
      nextToken = missing.size > 0 ? page.nextToken : undefined;
    } while (nextToken);
    if (out.deferred.includes(runId)) break;
  }
  if (bodies.length > 0) {
    await deps.queue.send(bodies);
    out.resultsFed += bodies.length;
    out.runsRepaired.push(runId);
  }
}
