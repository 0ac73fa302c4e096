/**
 * Completes a run once every expected instance has a result: folds the results into the summary
 * and writes summary.md, report.html and, last, summary.json — its presence marks the run done.
 * Any number of summarizers may call this at once or again later: they fold the same stored
 * results into the same bytes, and only the one that creates the reply marker sends the reply.
 */
import { runKeys } from '../runs/keys.ts';
import { expectedInstances, runManifestSchema, type RunManifest } from '../runs/manifest.ts';
import { renderHtml } from '../runs/render-html.ts';
import { renderMarkdown } from '../runs/render-markdown.ts';
import { instanceResultSchema } from '../runs/result.ts';
import { SummaryBuilder, summaryJson, type RunSummary } from '../runs/summary.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

/** Where a finished run's summary goes to people; a no-op until the chat issue lands. */
export interface ChatReplier {
  reply(manifest: RunManifest, summary: RunSummary, reportUrl: string): Promise<void>;
  /** Instances finished so far; the replier decides how often to say so. */
  progress?(manifest: RunManifest, have: number, want: number): Promise<void>;
}
export const NO_CHAT: ChatReplier = { reply: async () => {} };

export interface FinishDeps {
  store: ObjectStore;
  chat: ChatReplier;
  logger: Logger;
  /** How long the report link in the reply stays valid. */
  reportLinkSeconds?: number;
  /** Results read from the bucket at once while folding. */
  readConcurrency?: number;
}

export type FinishOutcome = { state: 'incomplete'; have: number; want: number } | { state: 'complete'; summary: RunSummary; replied: boolean };

export async function readManifest(store: ObjectStore, runId: string): Promise<RunManifest | undefined> {
  const raw = await store.get(runKeys.manifest(runId));
  return raw ? runManifestSchema.parse(JSON.parse(raw.toString('utf8'))) : undefined;
}

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

export async function finishIfComplete(manifest: RunManifest, deps: FinishDeps): Promise<FinishOutcome> {
  const expected = expectedInstances(manifest);
  const present = await presentResults(deps.store, manifest);
  if (present.size < expected.size) {
    await deps.chat.progress?.(manifest, present.size, expected.size);
    return { state: 'incomplete', have: present.size, want: expected.size };
  }

  const builder = new SummaryBuilder(manifest);
  const ids = [...present].sort();
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
  await deps.store.put(runKeys.summaryJson(manifest.runId), summaryJson(summary), { contentType: 'application/json' });
  await deps.store.delete(runKeys.openMarker(manifest.runId));
  const first = (await deps.store.put(`${runKeys.prefix(manifest.runId)}replied`, new Date(0).toISOString(), { forbidOverwrite: true })) === 'written';
  if (first) {
    await deps.chat.reply(manifest, summary, deps.store.signedUrl(runKeys.report(manifest.runId), deps.reportLinkSeconds ?? 7 * 24 * 3600));
    deps.logger.info('run complete', { runId: manifest.runId, status: summary.status, instances: summary.counts.total });
  }
  return { state: 'complete', summary, replied: first };
}
