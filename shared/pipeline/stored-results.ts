/**
 * A run's stored results: one object per batch a summarizer stored, holding the batch's results
 * (`runs/<id>/stored/<hash>-<n>`, result-batch.ts), written once under the hash of its bytes — a
 * batch delivered again is the same object. Whether a run is complete is a listing of those
 * objects: their names say how many results each holds, so a warm summarizer reads none of them
 * until together they could cover the run, and then reads each once — what it folds next. A
 * batch object also says which of its instances did not succeed, which a concurrency-limited
 * run's fan-out counts against its maxErrors (fan-out.ts) without parsing the results.
 *
 * An instance in two batch objects (delivered again in another batch) is counted once. Its result
 * is the one in the first of them in key order, whoever reads (the fold adds batches in key order
 * and SummaryBuilder keeps an instance's first result); it counts as failed if any of them says so,
 * so what the fan-out has counted only grows.
 *
 * The earlier layout — a result object per instance (`runs/<id>/results/<instance>.json`) plus a
 * marker naming a batch of them under the same prefix — is still read, so a run stored partly
 * before an upgrade completes: its markers count like batch objects, and the fold reads the
 * result object of an instance no batch object carries. A result object whose marker was never
 * written (its summarizer died between the two) is found by the callers without a warm instance
 * (the reconciler, status), which list `results/` once — one request when it is empty.
 */
import { statusClass } from '../cloud-assistant/statuses.ts';
import { expectedInstances, type RunManifest } from '../runs/manifest.ts';
import { runKeys } from '../runs/keys.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import { tailCharsFor } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';
import { countInName, decodeResultBatchBytes, encodeResultBatch } from './result-batch.ts';

interface Batch {
  instanceIds: readonly string[];
  failed: ReadonlySet<string>;
  /** Its results, outputs cut to the summary's tail: when this instance stored the batch or read it to fold. */
  results: InstanceResult[] | undefined;
  /** Stored here and not cut yet. */
  uncut?: boolean;
}

interface RunState {
  /** Batch objects (and earlier markers) listed, by key; undefined until read. */
  batches: Map<string, Batch | undefined>;
  /** Every instance the batches read so far name, and those any of them says failed. */
  named: Set<string>;
  failed: Set<string>;
  /** Instances with a result object of the earlier layout, and whether it failed (undefined: not read). */
  earlier: Map<string, boolean | undefined>;
  earlierListed: boolean;
  /** Summarized: nothing of it is kept, and whatever comes for it is a duplicate. */
  settled: boolean;
  usedAt: number;
}

/** Objects read at once. */
const READ_CONCURRENCY = 16;

/**
 * Batch objects read at once, for their headers or their results, folding or not: up to 100
 * results of up to 64 KB each (a queue message's bound), so two at a time keep memory near what
 * 16 result objects took: the memory benchmark's 10,000 × 24 KB fold peaks at about 225 MB with
 * two, 270 MB with four (`npx tsx bench/memory.ts`-style runs, 2026-12-02), against a 512 MB function.
 */
const BATCH_READS_AT_ONCE = 2;

/** Runs a warm instance keeps; the least recently used go first. */
const MAX_RUNS = 100;

export interface StoredProgress {
  /** Expected instances with a stored result: exact when complete, else at most this many. */
  have: number;
  complete: boolean;
}

export class StoredResults {
  private readonly runs = new Map<string, RunState>();

  constructor(private readonly store: ObjectStore) {}

  private state(runId: string): RunState {
    let s = this.runs.get(runId);
    if (!s) {
      s = { batches: new Map(), named: new Set(), failed: new Set(), earlier: new Map(), earlierListed: false, settled: false, usedAt: 0 };
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
   * Stores a batch of the run's results as one object: how many instances it holds, and whether
   * it was 'written' or 'exists' (the same batch stored before, or every instance in it known to
   * this instance as stored already — then nothing is written). Stored before the run's manifest
   * is read, as each result was before batches: a store failure fails the delivery.
   */
  async storeBatch(runId: string, results: readonly InstanceResult[]): Promise<{ instances: number; state: 'written' | 'exists' }> {
    const s = this.state(runId);
    const { name, body, batch } = encodeResultBatch(results);
    if (s.settled || batch.instanceIds.every((id) => s.named.has(id) || s.earlier.has(id))) return { instances: batch.instanceIds.length, state: 'exists' };
    const key = runKeys.stored(runId, name);
    const state = await this.store.put(key, body, { contentType: 'application/x-ndjson', forbidOverwrite: true });
    // Its name is the hash of its bytes: an existing one holds exactly these results. Kept whole
    // until the manifest says how much of each output the summary shows (progress cuts them).
    record(s, key, { ...batch, uncut: true });
    return { instances: batch.instanceIds.length, state };
  }

  /**
   * How many of the run's expected instances have a stored result, from a listing of its batch
   * objects; the unread ones are read (to fold next) only once their names say they could
   * complete the run.
   */
  async progress(manifest: RunManifest): Promise<StoredProgress> {
    if (this.runs.get(manifest.runId)?.settled) return { have: expectedInstances(manifest).size, complete: true };
    const s = await this.listBatches(manifest.runId);
    for (const b of s.batches.values()) if (b?.uncut) Object.assign(b, { results: cut(manifest, b.results!), uncut: false });
    const expected = expectedInstances(manifest);
    // Earlier markers carry no count: read them (they are small), as the earlier layout did.
    await this.readBatches(s, unread(s).filter((key) => countInName(nameOf(key)) === undefined), false, manifest);
    let have = presentCount(s, expected);
    const rest = unread(s);
    const could = rest.reduce((n, key) => n + (countInName(nameOf(key)) ?? 0), 0);
    if (have < expected.size && have + could >= expected.size) {
      await this.readBatches(s, rest, true, manifest);
      have = presentCount(s, expected);
      return { have, complete: have === expected.size };
    }
    return { have: Math.min(expected.size, have + could), complete: have === expected.size };
  }

  /** The expected instances with a stored result: every batch object read, and the earlier layout's result objects listed. */
  async present(manifest: RunManifest, options: { keepResults?: boolean } = {}): Promise<Set<string>> {
    const s = await this.readAll(manifest, options.keepResults ?? false);
    const expected = expectedInstances(manifest);
    return new Set([...s.named, ...s.earlier.keys()].filter((id) => expected.has(id)));
  }

  /**
   * Every instance with a stored result (expected or not), and those that did not succeed, as the
   * batch objects say — for the fan-out's counts. `earlierLayout`: also the result objects of the
   * earlier layout that no marker names, read for their status (a caller without a warm instance).
   */
  async finished(manifest: RunManifest, options: { earlierLayout?: boolean } = {}): Promise<{ done: ReadonlySet<string>; failed: ReadonlySet<string> }> {
    const s = options.earlierLayout ? await this.readAll(manifest) : await this.listBatches(manifest.runId);
    if (!options.earlierLayout) await this.readBatches(s, unread(s), false, manifest);
    const done = new Set(s.named);
    const failed = new Set(s.failed);
    if (options.earlierLayout) {
      const unknown = [...s.earlier].filter(([id, f]) => f === undefined && !done.has(id)).map(([id]) => id);
      await inChunks(unknown, async (id) => {
        const body = await this.store.get(runKeys.result(manifest.runId, id));
        const parsed = body ? instanceResultSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
        if (parsed?.success) s.earlier.set(id, statusClass(parsed.data.status) !== 'success');
      });
      for (const [id, f] of s.earlier) {
        if (f === undefined) continue;
        done.add(id);
        if (f) failed.add(id);
      }
    }
    return { done, failed };
  }

  /**
   * Hands `add` the stored result of every expected instance, in the one order every reader uses:
   * batch objects in key order (an instance's first is its result), then the earlier layout's
   * result object of each instance no batch object carries. Batches this instance has not kept are
   * read a few at a time and not kept, so memory stays flat with run size. `concurrency`: earlier
   * result objects read at once.
   */
  async fold(manifest: RunManifest, add: (result: InstanceResult) => void, concurrency = READ_CONCURRENCY): Promise<void> {
    const runId = manifest.runId;
    const s = this.state(runId);
    const expected = expectedInstances(manifest);
    const carried = new Set<string>();
    const keys = [...s.batches.keys()].sort();
    for (let i = 0; i < keys.length; i += BATCH_READS_AT_ONCE) {
      const chunk = keys.slice(i, i + BATCH_READS_AT_ONCE);
      const batches = await Promise.all(
        chunk.map(async (key) => {
          const known = s.batches.get(key);
          if (known?.results || countInName(nameOf(key)) === undefined) return known;
          const body = await this.store.get(key);
          if (!body) throw new Error(`stored results ${key} vanished while folding run ${runId}`);
          return decodeResultBatchBytes(body, true);
        }),
      );
      for (const b of batches) for (const r of b?.results ?? []) if (expected.has(r.instanceId)) (carried.add(r.instanceId), add(r));
    }
    const earlier = [...expected].filter((id) => !carried.has(id)).sort();
    await inChunks(earlier, (id) => this.store.get(runKeys.result(runId, id)), concurrency, (bodies, ids) =>
      bodies.forEach((body, n) => {
        if (!body) throw new Error(`result of ${ids[n]} vanished while folding run ${runId}`);
        add(instanceResultSchema.parse(JSON.parse(body.toString('utf8'))));
      }),
    );
  }

  /**
   * The run is summarized (its summary.json is stored): all of it is let go but that, so a
   * message that comes late stores nothing and goes straight to the summary's next steps.
   */
  settled(runId: string): void {
    this.runs.delete(runId);
    Object.assign(this.state(runId), { settled: true });
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /** The run's batch objects listed afresh (what was read before is kept). */
  private async listBatches(runId: string): Promise<RunState> {
    const s = this.state(runId);
    for await (const o of this.store.list(runKeys.storedPrefix(runId))) if (!s.batches.has(o.key) && countInName(nameOf(o.key)) !== null) s.batches.set(o.key, undefined);
    return s;
  }

  /** Every batch object read (their results not parsed), and the earlier layout's result objects listed. */
  private async readAll(manifest: RunManifest, withResults = false): Promise<RunState> {
    const s = await this.listBatches(manifest.runId);
    await this.readBatches(s, unread(s), withResults, manifest);
    if (s.earlierListed) return s;
    // Listed once for this view of the run: only a summarizer from before the upgrade writes there.
    const prefix = runKeys.resultsPrefix(manifest.runId);
    for await (const o of this.store.list(prefix)) {
      const id = o.key.slice(prefix.length).replace(/\.json$/, '');
      if (!s.earlier.has(id)) s.earlier.set(id, undefined);
    }
    s.earlierListed = true;
    return s;
  }

  private async readBatches(s: RunState, keys: string[], withResults: boolean, manifest: RunManifest): Promise<void> {
    await inChunks(
      keys,
      async (key) => {
        const body = await this.store.get(key);
        // Listed, then gone: the run's objects expired. Left unread, so it counts for nothing.
        if (!body) return;
        const b = decodeResultBatchBytes(body, withResults);
        record(s, key, { ...b, results: b.results && cut(manifest, b.results) });
      },
      BATCH_READS_AT_ONCE,
    );
  }
}

function record(s: RunState, key: string, batch: Batch): void {
  s.batches.set(key, batch);
  for (const id of batch.instanceIds) s.named.add(id);
  for (const id of batch.failed) s.failed.add(id);
}

function unread(s: RunState): string[] {
  return [...s.batches].filter(([, b]) => !b).map(([key]) => key);
}

function presentCount(s: RunState, expected: ReadonlySet<string>): number {
  let n = 0;
  for (const id of s.named) if (expected.has(id)) n++;
  for (const id of s.earlier.keys()) if (expected.has(id) && !s.named.has(id)) n++;
  return n;
}

/**
 * Every instance of the run with a stored result, and those that did not succeed, for a caller
 * without a warm StoredResults (the reconciler, a retried dispatch): the batch objects, plus the
 * result objects of the earlier layout.
 */
export async function finishedInStore(store: ObjectStore, manifest: RunManifest): Promise<{ done: ReadonlySet<string>; failed: ReadonlySet<string> }> {
  return new StoredResults(store).finished(manifest, { earlierLayout: true });
}

/**
 * The run's batch objects (and earlier markers) in key order, with the instances each names: when
 * each instance's result was stored is when the first of them naming it was written.
 */
export async function storedBatches(store: ObjectStore, runId: string): Promise<{ key: string; instanceIds: readonly string[] }[]> {
  const keys: string[] = [];
  for await (const o of store.list(runKeys.storedPrefix(runId))) if (countInName(nameOf(o.key)) !== null) keys.push(o.key);
  const out: { key: string; instanceIds: readonly string[] }[] = [];
  await inChunks(keys.sort(), (key) => store.get(key), BATCH_READS_AT_ONCE, (bodies, chunk) =>
    bodies.forEach((body, n) => {
      if (body) out.push({ key: chunk[n]!, instanceIds: decodeResultBatchBytes(body, false).instanceIds });
    }),
  );
  return out;
}

/** One instance's stored result as the fold takes it (the first batch object in key order carrying it, else its earlier result object); whole, outputs uncut. */
export async function storedResultOf(store: ObjectStore, runId: string, instanceId: string): Promise<InstanceResult | undefined> {
  for (const { key, instanceIds } of await storedBatches(store, runId)) {
    if (!instanceIds.includes(instanceId) || countInName(nameOf(key)) === undefined) continue;
    const body = await store.get(key);
    const found = body && decodeResultBatchBytes(body, true).results?.find((r) => r.instanceId === instanceId);
    if (found) return found;
  }
  const earlier = await store.get(runKeys.result(runId, instanceId));
  return earlier ? instanceResultSchema.parse(JSON.parse(earlier.toString('utf8'))) : undefined;
}

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}


/** Outputs cut to what the summary shows, so a warm instance keeps little of a large run. */
function cut(manifest: RunManifest, results: InstanceResult[]): InstanceResult[] {
  const tail = tailCharsFor(expectedInstances(manifest).size);
  return results.map((r) => (r.output.length > tail ? { ...r, output: Buffer.from(r.output.slice(-tail), 'utf8').toString('utf8') } : r));
}

async function inChunks<T, R>(items: T[], each: (item: T) => Promise<R>, concurrency = READ_CONCURRENCY, then?: (results: R[], chunk: T[]) => void): Promise<void> {
  for (let i = 0; i < items.length; i += concurrency) {
    const chunk = items.slice(i, i + concurrency);
    const results = await Promise.all(chunk.map(each));
    then?.(results, chunk);
  }
}
