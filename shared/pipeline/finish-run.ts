/**
 * Completes a run once every expected instance has a result: folds the results into the summary
 * and writes summary.md, report.html and, last, summary.json — its presence marks the run done.
 * Any number of summarizers may call this at once or again later: they fold the stored results in
 * one order (stored-results.ts) into the same bytes — and should two have listed different batch
 * objects, the one whose summary.json is not kept writes summary.md and report.html again from the
 * kept one —, summary.json is created once (the first writer wins), a run already
 * summarized is not folded again, and the final reply goes out once (final-reply.ts). The one that
 * creates summary.json appends the run's finish to the audit record (runs/audit.ts).
 */
import { runKeys } from '../runs/keys.ts';
import { expectedInstances, type RunManifest } from '../runs/manifest.ts';
import { renderHtml } from '../runs/render-html.ts';
import { renderMarkdown } from '../runs/render-markdown.ts';
import { parseSummaryJson, SummaryBuilder, summaryJson, type RunSummary } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';
import { appendAudit } from './audit-log.ts';
import { replyOnce, type ReplyDeps } from './final-reply.ts';
import { linkRetry } from './retry-link.ts';
import { StoredResults } from './stored-results.ts';

export { NO_CHAT, type ChatReplier } from './final-reply.ts';

export interface FinishDeps extends ReplyDeps {
  /** Result objects of the earlier layout read from the bucket at once while folding. */
  readConcurrency?: number;
}

export type FinishOutcome = { state: 'incomplete'; have: number; want: number } | { state: 'complete'; summary: RunSummary; replied: boolean };

/** Parsed once per content in a warm instance, and shared: read-only (manifest-reads.ts). */
export { readManifest } from './manifest-reads.ts';

/** The run's expected instances with a stored result: status, and the reconciler, read them from the bucket alone. */
export async function presentResults(store: ObjectStore, manifest: RunManifest): Promise<Set<string>> {
  return new StoredResults(store).present(manifest);
}

async function everythingPresent(results: StoredResults, manifest: RunManifest): Promise<{ have: number; complete: boolean }> {
  // Kept (outputs cut to the summary's tail) for the fold that follows, so each batch object is read once.
  const have = (await results.present(manifest, { keepResults: true })).size;
  return { have, complete: have === expectedInstances(manifest).size };
}

/**
 * `stored`: what a caller already knows of the run's stored results (a warm summarizer's, or the
 * reconciler's that just read them all), so they need not be listed or read again; without it
 * they are read from the bucket, the earlier layout's result objects included.
 */
export async function finishIfComplete(manifest: RunManifest, deps: FinishDeps, stored?: StoredResults): Promise<FinishOutcome> {
  const expected = expectedInstances(manifest);
  const results = stored ?? new StoredResults(deps.store);
  const { have, complete } = stored ? await stored.progress(manifest) : await everythingPresent(results, manifest);
  // While the fan-out is open, `skipped` does not yet name what it will leave unsent: not complete
  // however many results are in (fan-out.ts writes the final manifest, then looks again).
  if (!complete || manifest.fanOut === 'open') {
    await deps.chat.progress?.(manifest, have, expected.size);
    return { state: 'incomplete', have, want: expected.size };
  }

  // A late or duplicated message for a finished run must not fold every result again and rewrite
  // the summary: only the steps after summary.json are repeated, for a summarizer that died there.
  const kept = await deps.store.get(runKeys.summaryJson(manifest.runId));
  if (kept) return settleFinishedRun(manifest, parseSummaryJson(kept.toString('utf8')), deps);

  const builder = new SummaryBuilder(manifest);
  await results.fold(manifest, (r) => builder.add(r), deps.readConcurrency);
  const summary = builder.build();
  await deps.store.put(runKeys.summaryMarkdown(manifest.runId), renderMarkdown(summary), { contentType: 'text/markdown; charset=utf-8' });
  await deps.store.put(runKeys.report(manifest.runId), renderHtml(summary), { contentType: 'text/html; charset=utf-8' });
  // Summarizers that saw the run complete at the same moment fold the same bytes; the first to
  // create summary.json wins and the others leave it as it is.
  const bytes = summaryJson(summary);
  const written = await deps.store.put(runKeys.summaryJson(manifest.runId), bytes, { contentType: 'application/json', forbidOverwrite: true });
  if (written === 'exists') return settleFinishedRun(manifest, await keptSummary(manifest, bytes, deps), deps);
  // One finish record per run: by the summarizer whose summary.json is the one kept. One that dies
  // between the two leaves the run without it; `runs` then reads the status from summary.json.
  await appendAudit(deps, finishRecord(summary));
  // A retry's summary links back to its run once, by the same summarizer (retry-link.ts).
  if (manifest.retryOf !== undefined) await linkRetry(deps, manifest.retryOf, manifest.runId);
  return settleFinishedRun(manifest, summary, deps);
}

/**
 * The summary another summarizer kept, when this one folded at the same moment. They fold the
 * same bytes unless an instance's result was stored twice, differently, and one of them listed a
 * batch object the other did not yet see: then summary.md and report.html, which both wrote, are
 * written again from the summary kept, so the three always agree.
 */
async function keptSummary(manifest: RunManifest, mine: string, deps: FinishDeps): Promise<RunSummary> {
  const theirs = await deps.store.get(runKeys.summaryJson(manifest.runId));
  if (!theirs) throw new Error(`summary.json of run ${manifest.runId} exists and cannot be read`);
  const text = theirs.toString('utf8');
  const summary = parseSummaryJson(text);
  if (text !== mine) {
    await deps.store.put(runKeys.summaryMarkdown(manifest.runId), renderMarkdown(summary), { contentType: 'text/markdown; charset=utf-8' });
    await deps.store.put(runKeys.report(manifest.runId), renderHtml(summary), { contentType: 'text/html; charset=utf-8' });
  }
  return summary;
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
