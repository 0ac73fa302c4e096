/**
 * The link from a run to its retries. A run's summary.json is final once written, and a retry
 * comes later: the retry's summarizer (the one whose summary.json was kept) creates the link
 * `runs/<run>/retries/<retry>` once, then rewrites the run's summary.json, summary.md and
 * report.html with `retries` = every link listed, in order.
 *
 * Why this design: the list is a function of create-once objects, so it only grows, and any two
 * writers holding the same list write the same bytes (the summary is read back in build()'s key
 * order, runs/summary.ts). Two retries finishing at once may each write a list that misses the
 * other's link; so a writer keeps going until the summary it reads back lists exactly the links it
 * lists after its own write — the last writer's list is then complete. A writer that dies midway
 * leaves the links in place; only the list in the files may lag until another retry of the run ends.
 * Nothing here fails the retry's own finish: a failure is logged.
 */
import { RUN_ID, runKeys } from '../runs/keys.ts';
import { renderHtml } from '../runs/render-html.ts';
import { renderMarkdown } from '../runs/render-markdown.ts';
import { parseSummaryJson, summaryJson } from '../runs/summary.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

/** Rounds of rewriting before giving up: each round is one more retry of the same run finishing at the same moment. fleetrun's own bound. */
const LINK_ROUNDS = 10;

async function listedRetries(store: ObjectStore, runId: string): Promise<string[]> {
  const prefix = runKeys.retryLinksPrefix(runId);
  const ids: string[] = [];
  for await (const o of store.list(prefix)) {
    const id = o.key.slice(prefix.length);
    // Only run ids: the report and summary.md show them as they are.
    if (RUN_ID.test(id)) ids.push(id);
  }
  return ids.sort();
}

/** Links `retryId` to `runId` and brings `runId`'s summary files up to date with every retry linked. */
export async function linkRetry(deps: { store: ObjectStore; logger: Logger }, runId: string, retryId: string): Promise<void> {
  try {
    await deps.store.put(runKeys.retryLink(runId, retryId), '', { forbidOverwrite: true });
    for (let round = 0; round < LINK_ROUNDS; round++) {
      const retries = await listedRetries(deps.store, runId);
      const stored = await deps.store.get(runKeys.summaryJson(runId));
      // Expired with the bucket's lifecycle rules: nothing left to link.
      if (!stored) return;
      const summary = parseSummaryJson(stored.toString('utf8'));
      if (summary.retries.join('\n') === retries.join('\n')) return;
      const linked = { ...summary, retries };
      await deps.store.put(runKeys.summaryMarkdown(runId), renderMarkdown(linked), { contentType: 'text/markdown; charset=utf-8' });
      await deps.store.put(runKeys.report(runId), renderHtml(linked), { contentType: 'text/html; charset=utf-8' });
      await deps.store.put(runKeys.summaryJson(runId), summaryJson(linked), { contentType: 'application/json' });
    }
    deps.logger.warn('retry link: the run\'s summary kept changing; its list of retries may lag', { runId, retryId });
  } catch (e) {
    deps.logger.warn('retry link failed', { runId, retryId, error: (e as Error).message });
  }
}
