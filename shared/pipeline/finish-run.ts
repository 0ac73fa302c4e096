/**
 * Completes a run once every expected instance has a result: folds the results into the summary
 * and writes summary.md, report.html and, last, summary.json — its presence marks the run done.
 * Any number of summarizers may call this at once or again later: they fold the same stored
 * results into the same bytes, summary.json is created once (the first writer wins), a run already
 * summarized is not folded again, and the final reply goes out once (final-reply.ts). The one that
 * creates summary.json appends the run's finish to the audit record (runs/audit.ts).
 */
import { runKeys } from '../runs/keys.ts';
import { expectedInstances, type RunManifest } from '../runs/manifest.ts';
import { renderHtml } from '../runs/render-html.ts';
import { renderMarkdown } from '../runs/render-markdown.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import { parseSummaryJson, SummaryBuilder, summaryJson, type RunSummary } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';
import { appendAudit } from './audit-log.ts';
import { replyOnce, type ReplyDeps } from './final-reply.ts';
import { linkRetry } from './retry-link.ts';

export { NO_CHAT, type ChatReplier } from './final-reply.ts';

export interface FinishDeps extends ReplyDeps {
  /** Results read from the bucket at once while folding. */
  readConcurrency?: number;
}

export type FinishOutcome = { state: 'incomplete'; have: number; want: number } | { state: 'complete'; summary: RunSummary; replied: boolean };

/** Parsed once per content in a warm instance, and shared: read-only (manifest-reads.ts). */
export { readManifest } from './manifest-reads.ts';

/** Result keys present for the run's expected instances. */
export async function presentResults(store: ObjectStore, manifest: RunManifest): Promise<Set<string>> {
  const expected = expectedInstances(manifest);
  const prefix = runKeys.resultsPrefix(manifest.runId);
  const present = new Set<string>();
  for await (const o of store.list(prefix)) {
    const id = o.key.slice(prefix.length).replace(/\.json$/, '');
    if (expected.has(id)) present.add(id);
  }
  return present;
}

/** What a caller already knows of a run's stored results, so they need not be listed or read again. */
export interface KnownResults {
  present: Set<string>;
  kept: ReadonlyMap<string, InstanceResult>;
}

export async function finishIfComplete(manifest: RunManifest, deps: FinishDeps, known?: KnownResults): Promise<FinishOutcome> {
  const expected = expectedInstances(manifest);
  const present = known?.present ?? (await presentResults(deps.store, manifest));
  // While the fan-out is open, `skipped` does not yet name what it will leave unsent: not complete
  // however many results are in (fan-out.ts writes the final manifest, then looks again).
  if (present.size < expected.size || manifest.fanOut === 'open') {
    await deps.chat.progress?.(manifest, present.size, expected.size);
    return { state: 'incomplete', have: present.size, want: expected.size };
  }

  // A late or duplicated message for a finished run must not fold every result again and rewrite
  // the summary: only the steps after summary.json are repeated, for a summarizer that died there.
  const stored = await deps.store.get(runKeys.summaryJson(manifest.runId));
  if (stored) return settleFinishedRun(manifest, parseSummaryJson(stored.toString('utf8')), deps);

  const builder = new SummaryBuilder(manifest);
  for (const [id, result] of known?.kept ?? []) if (present.has(id)) builder.add(result);
  const ids = [...present].filter((id) => !known?.kept.has(id)).sort();
  const concurrency = deps.readConcurrency ?? 16;
  // Results are read a few at a time and folded as they come, so memory stays flat with run size.
  for (let i = 0; i < ids.length; i += concurrency) {
    const chunk = ids.slice(i, i + concurrency);
    const bodies = await Promise.all(chunk.map((id) => deps.store.get(runKeys.result(manifest.runId, id))));
    bodies.forEach((body, n) => {
      if (!body) throw new Error(`result of ${chunk[n]} vanished while folding run ${manifest.runId}`);
      builder.add(instanceResultSchema.parse(JSON.parse(body.toString('utf8'))));
    });
  }
  const summary = builder.build();
  await deps.store.put(runKeys.summaryMarkdown(manifest.runId), renderMarkdown(summary), { contentType: 'text/markdown; charset=utf-8' });
  await deps.store.put(runKeys.report(manifest.runId), renderHtml(summary), { contentType: 'text/html; charset=utf-8' });
  // Summarizers that saw the run complete at the same moment fold the same bytes; the first to
  // create summary.json wins and the others leave it as it is.
  const kept = await deps.store.put(runKeys.summaryJson(manifest.runId), summaryJson(summary), { contentType: 'application/json', forbidOverwrite: true });
  // One finish record per run: by the summarizer whose summary.json is the one kept. One that dies
  // between the two leaves the run without it; `runs` then reads the status from summary.json.
  if (kept === 'written') await appendAudit(deps, finishRecord(summary));
  // A retry's summary links back to its run once, by the same summarizer (retry-link.ts).
  if (kept === 'written' && manifest.retryOf !== undefined) await linkRetry(deps, manifest.retryOf, manifest.runId);
  return settleFinishedRun(manifest, summary, deps);
}

/**
 * The audit record of a run's end, as its summary was stored: status, counts, who asked. It holds
 * no text of the request, so there is nothing in it to redact.
 */
function finishRecord(summary: RunSummary) {
  const c = summary.counts.byClass;
  return {
    version: 1 as const,
    at: new Date().toISOString(),
    who: summary.requestedBy,
    kind: 'finish' as const,
    runId: summary.runId,
    command: summary.command.name,
    outcome: { result: 'finished' as const, status: summary.status, counts: { total: summary.counts.total, success: c.success, failed: c.failed, stopped: c.stopped, skipped: c.skipped } },
  };
}

/**
 * What follows a stored summary: the final reply, then the run leaves the open index — not before
 * the reply is confirmed, so that the reconciler comes back to a reply whose sender died.
 */
export async function settleFinishedRun(manifest: RunManifest, summary: RunSummary, deps: FinishDeps): Promise<FinishOutcome> {
  const reply = await replyOnce(manifest, summary, deps);
  if (reply !== 'pending') await deps.store.delete(runKeys.openMarker(manifest.runId));
  if (reply === 'sent') deps.logger.info('run complete', { runId: manifest.runId, status: summary.status, instances: summary.counts.total });
  return { state: 'complete', summary, replied: reply === 'sent' };
}
