/**
 * What a warm summarize instance knows of its runs' stored results. After storing a batch's
 * results, a summarizer writes a small marker naming them (`runs/<id>/stored/<hash>`), so whether
 * a run is complete is a listing of its markers — a page per hundred batches — plus reading the
 * markers not seen yet, instead of listing every result object after every batch. A marker also
 * says which of its instances did not succeed (`<id>\tfailed`), which a concurrency-limited run's
 * fan-out counts against its maxErrors (fan-out.ts) without reading every result. The results it
 * stored itself are kept, output cut to what the summary shows, so folding reads only the others.
 * A result stored without its marker (the summarizer died between the two) is marked when its
 * message comes back; if it never does, the reconciler finds the run by listing its results.
 */
import { createHash } from 'node:crypto';
import { statusClass } from '../cloud-assistant/statuses.ts';
import { expectedInstances, type RunManifest } from '../runs/manifest.ts';
import { runKeys } from '../runs/keys.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import { tailCharsFor } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';

interface RunState {
  stored: Set<string>;
  failed: Set<string>;
  markersRead: Set<string>;
  results: Map<string, InstanceResult>;
  usedAt: number;
}

/** Result objects read at once. */
const READ_CONCURRENCY = 16;

/** Runs a warm instance keeps; the least recently used go first. */
const MAX_RUNS = 100;

export class StoredResults {
  private readonly runs = new Map<string, RunState>();

  constructor(private readonly store: ObjectStore) {}

  private state(runId: string): RunState {
    let s = this.runs.get(runId);
    if (!s) {
      s = { stored: new Set(), failed: new Set(), markersRead: new Set(), results: new Map(), usedAt: 0 };
      this.runs.set(runId, s);
      if (this.runs.size > MAX_RUNS) {
        const oldest = [...this.runs.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt)[0]![0];
        this.runs.delete(oldest);
      }
    }
    s.usedAt = Date.now();
    return s;
  }

  /**
   * Marks the instances whose results are now stored (by this batch or an earlier one); `failed`:
   * those among them whose result is not a success, as the message that carried it said.
   */
  async record(manifest: RunManifest, instanceIds: string[], written: InstanceResult[], failed: Iterable<string> = []): Promise<void> {
    const s = this.state(manifest.runId);
    const ids = [...new Set(instanceIds)].sort();
    const failing = new Set(failed);
    const body = `${ids.map((id) => (failing.has(id) ? `${id}\tfailed` : id)).join('\n')}\n`;
    const marker = createHash('sha256').update(body).digest('hex').slice(0, 32);
    await this.store.put(runKeys.stored(manifest.runId, marker), body, { contentType: 'text/plain' });
    s.markersRead.add(runKeys.stored(manifest.runId, marker));
    for (const id of ids) s.stored.add(id);
    for (const id of failing) if (s.stored.has(id)) s.failed.add(id);
    const tail = tailCharsFor(expectedInstances(manifest).size);
    for (const r of written) s.results.set(r.instanceId, r.output.length > tail ? { ...r, output: Buffer.from(r.output.slice(-tail), 'utf8').toString('utf8') } : r);
  }

  /** The expected instances with a stored result, as the run's markers tell. */
  async present(manifest: RunManifest): Promise<Set<string>> {
    const s = await this.readMarkers(manifest.runId);
    const expected = expectedInstances(manifest);
    return new Set([...s.stored].filter((id) => expected.has(id)));
  }

  /** Every instance the run's markers name (expected or not), and those that did not succeed. */
  async finished(manifest: RunManifest): Promise<{ done: ReadonlySet<string>; failed: ReadonlySet<string> }> {
    const s = await this.readMarkers(manifest.runId);
    return { done: new Set(s.stored), failed: new Set(s.failed) };
  }

  private async readMarkers(runId: string): Promise<RunState> {
    const s = this.state(runId);
    const unread: string[] = [];
    for await (const o of this.store.list(runKeys.storedPrefix(runId))) if (!s.markersRead.has(o.key)) unread.push(o.key);
    const bodies = await Promise.all(unread.map((k) => this.store.get(k)));
    bodies.forEach((body, n) => {
      if (!body) return;
      for (const line of body.toString('utf8').split('\n')) {
        const [id, flag] = line.split('\t');
        if (!id) continue;
        s.stored.add(id);
        if (flag === 'failed') s.failed.add(id);
      }
      s.markersRead.add(unread[n]!);
    });
    return s;
  }

  /** Results this instance stored itself, ready to fold (outputs already cut to the summary's tail). */
  kept(runId: string): ReadonlyMap<string, InstanceResult> {
    return this.runs.get(runId)?.results ?? new Map();
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }
}

/**
 * Every instance of the run with a stored result, and those that did not succeed, for a caller
 * without a warm StoredResults (the reconciler, a retried dispatch): the markers, plus the result
 * objects themselves, since a summarizer may have died between storing results and marking them —
 * those few are read for their status.
 */
export async function finishedInStore(store: ObjectStore, manifest: RunManifest): Promise<{ done: ReadonlySet<string>; failed: ReadonlySet<string> }> {
  const marked = await new StoredResults(store).finished(manifest);
  const done = new Set(marked.done);
  const failed = new Set(marked.failed);
  const prefix = runKeys.resultsPrefix(manifest.runId);
  const unmarked: string[] = [];
  for await (const o of store.list(prefix)) {
    const id = o.key.slice(prefix.length).replace(/\.json$/, '');
    if (!done.has(id)) unmarked.push(id);
  }
  for (let i = 0; i < unmarked.length; i += READ_CONCURRENCY) {
    const chunk = unmarked.slice(i, i + READ_CONCURRENCY);
    const bodies = await Promise.all(chunk.map((id) => store.get(runKeys.result(manifest.runId, id))));
    bodies.forEach((body, n) => {
      const parsed = body ? instanceResultSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
      if (!parsed?.success) return;
      done.add(chunk[n]!);
      if (statusClass(parsed.data.status) !== 'success') failed.add(chunk[n]!);
    });
  }
  return { done, failed };
}
