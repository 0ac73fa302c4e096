/**
 * The reconciler: the only polling left. On a timer tick it looks at open runs past their timeout
 * plus a grace period, asks DescribeInvocationResults for the instances whose result never came
 * (a lost event), and feeds what it finds through the same queue as the event path. A complete run
 * is never read from the service again (one still open has an unconfirmed final reply, which the
 * tick sees through); the calls per tick are capped and counted.
 */
import { isFinal } from '../cloud-assistant/statuses.ts';
import { LIMITS } from '../cloud-assistant/constants.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { runKeys } from '../runs/keys.ts';
import { expectedInstances, runDeadline } from '../runs/manifest.ts';
import { unseal } from '../runs/seal.ts';
import { parseSummaryJson } from '../runs/summary.ts';
import { redactorFor } from '../runtime/redaction.ts';
import type { ResultQueue } from '../queue/port.ts';
import { finishIfComplete, presentResults, readManifest, settleFinishedRun, type FinishDeps } from './finish-run.ts';
import { resultMessage } from './result-message.ts';
import { resultFromService } from './service-result.ts';

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

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const now = deps.now ?? new Date();
  const out: ReconcileOutcome = { runsChecked: 0, runsRepaired: [], resultsFed: 0, calls: 0, deferred: [] };
  const open: string[] = [];
  for await (const o of deps.store.list(runKeys.openPrefix)) open.push(o.key.slice(runKeys.openPrefix.length));

  for (const runId of open) {
    const manifest = await readManifest(deps.store, runId);
    if (!manifest) continue;
    // A summarized run is open only while its final reply is unconfirmed: see that it goes out.
    const stored = await deps.store.get(runKeys.summaryJson(runId));
    if (stored) {
      await settleFinishedRun(manifest, parseSummaryJson(stored.toString('utf8')), deps);
      continue;
    }
    if (now < runDeadline(manifest, deps.graceSeconds)) continue;
    out.runsChecked++;
    const expected = expectedInstances(manifest);
    const present = await presentResults(deps.store, manifest);
    const missing = new Set([...expected].filter((id) => !present.has(id)));
    if (missing.size === 0) {
      // Just listed: finishing need not list the results again.
      await finishIfComplete(manifest, deps, { present, kept: new Map() });
      continue;
    }
    const redactor = redactorFor(manifest.sealedSecrets && deps.sealKey ? unseal(manifest.sealedSecrets, deps.sealKey) : []);
    const bodies: string[] = [];
    for (const inv of manifest.invocations) {
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
  return out;
}
