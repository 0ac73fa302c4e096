/**
 * `retry <run> [failed|not-run|all]`: a new run of a finished run's command and parameters on
 * some of its instances. The command is the one in the run's plan (fan-out.ts), as it was sent:
 * its secret values stay sealed as they are — a retry never opens them, so the chat path that
 * asks for it never holds them in clear. The instances are read from the run's summary by the
 * class each ended in (cloud-assistant/statuses.ts).
 */
import type { FanOutPlan } from './fan-out.ts';
import { runSpecSchema, type RunSpec } from './run-spec.ts';
import type { RunSummary, SummaryInstance } from './summary.ts';

/**
 * Which instances a retry runs on: `failed` (their results were Failed, Timeout, Error, Invalid or
 * Aborted), `not-run` (never sent: set aside when the run started or left unsent at max-errors,
 * and those a stop cancelled before they started) or `all`.
 */
export const RETRY_WHICH = ['failed', 'not-run', 'all'] as const;
export type RetryWhich = (typeof RETRY_WHICH)[number];

function chosen(i: SummaryInstance, which: RetryWhich): boolean {
  if (which === 'all') return true;
  if (which === 'failed') return i.statusClass === 'failed';
  return i.statusClass === 'skipped' || i.status === 'Cancelled';
}

/** The instances of `summary` a retry of `which` runs on, sorted. */
export function retryInstances(summary: RunSummary, which: RetryWhich): string[] {
  return summary.instances.filter((i) => chosen(i, which)).map((i) => i.instanceId).sort();
}

/** How a refusal names what there is not: "r-… has no failed instances". */
export function nothingToRetry(runId: string, which: RetryWhich): string {
  return `${runId} has no ${which === 'all' ? '' : `${which} `}instances to retry`;
}

/**
 * The RunSpec of a retry of `plan`'s run on `instanceIds`: the same command (parameters, secret
 * values sealed as they were, timeout, grouping rules) and the same limits as the run's plan holds
 * them (counts: a percentage was resolved against the first run's size when it started).
 */
export function retryRunSpec(plan: FanOutPlan, instanceIds: readonly string[], ask: { requestedBy: RunSpec['requestedBy']; replyTo?: RunSpec['replyTo'] }): RunSpec {
  return runSpecSchema.parse({
    command: plan.command,
    targets: { instanceIds: [...instanceIds] },
    ...(plan.maxConcurrency !== undefined ? { maxConcurrency: plan.maxConcurrency } : {}),
    ...(plan.maxErrors !== undefined ? { maxErrors: plan.maxErrors } : {}),
    requestedBy: ask.requestedBy,
    ...(ask.replyTo !== undefined ? { replyTo: ask.replyTo } : {}),
    retryOf: plan.runId,
  });
}
