/**
 * What a warm summarize instance knows of its runs' stored results. After storing a batch's
 * results, a summarizer writes a small marker naming them (`runs/<id>/stored/<hash>`), so whether
 * a run is complete is a listing of its markers — a page per hundred batches — plus reading the
 * markers not seen yet, instead of listing every result object after every batch. The results it
 * stored itself are kept, output cut to what the summary shows, so folding reads only the others.
 * A result stored without its marker (the summarizer died between the two) is marked when its
 * message comes back; if it never does, the reconciler finds the run by listing its results.
 */
import { createHash } from 'node:crypto';
import { expectedInstances, type RunManifest } from '../runs/manifest.ts';
import { runKeys } from '../runs/keys.ts';
import type { InstanceResult } from '../runs/result.ts';
import { tailCharsFor } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';

interface RunState {
  stored: Set<string>;
  markersRead: Set<string>;
  results: Map<string, InstanceResult>;
  usedAt: number;
}

/** Runs a warm instance keeps; the least recently used go first. */
const MAX_RUNS = 100;

export class StoredResults {
  private readonly runs = new Map<string, RunState>();

  constructor(private readonly store: ObjectStore) {}

  private state(runId: string): RunState {
    let s = this.runs.get(runId);
    if (!s) {
      s = { stored: new Set(), markersRead: new Set(), results: new Map(), usedAt: 0 };
      this.runs.set(runId, s);
      if (this.runs.size > MAX_RUNS) {
        const oldest = [...this.runs.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt)[0]![0];
        this.runs.delete(oldest);
      }
    }
    s.usedAt = Date.now();
    return s;
  }

  /** Marks the instances whose results are now stored (by this batch or an earlier one). */
  async record(manifest: RunManifest, instanceIds: string[], written: InstanceResult[]): Promise<void> {
    const s = this.state(manifest.runId);
    const ids = [...new Set(instanceIds)].sort();
    const body = `${ids.join('\n')}\n`;
    const marker = createHash('sha256').update(body).digest('hex').slice(0, 32);
    await this.store.put(runKeys.stored(manifest.runId, marker), body, { contentType: 'text/plain' });
    s.markersRead.add(runKeys.stored(manifest.runId, marker));
    for (const id of ids) s.stored.add(id);
    const tail = tailCharsFor(expectedInstances(manifest).size);
    for (const r of written) s.results.set(r.instanceId, r.output.length > tail ? { ...r, output: Buffer.from(r.output.slice(-tail), 'utf8').toString('utf8') } : r);
  }

  /** The expected instances with a stored result, as the run's markers tell. */
  async present(manifest: RunManifest): Promise<Set<string>> {
    const s = this.state(manifest.runId);
    const unread: string[] = [];
    for await (const o of this.store.list(runKeys.storedPrefix(manifest.runId))) if (!s.markersRead.has(o.key)) unread.push(o.key);
    const bodies = await Promise.all(unread.map((k) => this.store.get(k)));
    bodies.forEach((body, n) => {
      if (!body) return;
      for (const id of body.toString('utf8').split('\n')) if (id) s.stored.add(id);
      s.markersRead.add(unread[n]!);
    });
    const expected = expectedInstances(manifest);
    return new Set([...s.stored].filter((id) => expected.has(id)));
  }

  /** Results this instance stored itself, ready to fold (outputs already cut to the summary's tail). */
  kept(runId: string): ReadonlyMap<string, InstanceResult> {
    return this.runs.get(runId)?.results ?? new Map();
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }
}
