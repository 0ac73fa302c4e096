/**
 * A run's stored results as batch objects against the local OSS: what one summarizer stored,
 * another sees by listing the run's batch objects, reading them only once their names say they
 * could complete the run, and each once; a batch delivered again is the same object; an instance
 * stored in two batches counts once, with the same result whoever folds; and a run stored half in
 * the earlier layout (a result object per instance, plus markers) completes with the right counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishIfComplete, NO_CHAT, presentResults } from '../../shared/pipeline/finish-run.ts';
import { encodeResultBatch } from '../../shared/pipeline/result-batch.ts';
import { finishedInStore, StoredResults } from '../../shared/pipeline/stored-results.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema, type RunManifest } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { SUMMARY_TAIL_CHARS, type RunSummary } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;
const logger = createLogger({ sink: () => {} });

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => oss.close());

let runs = 0;
/** A fresh run on `ids` (and one skipped instance, never expected; the summary counts it as skipped), its manifest in the bucket. */
async function newRun(ids: string[]): Promise<RunManifest> {
  const runId = `r-20261123t120000-st${String(++runs).padStart(4, '0')}`;
  const manifest = runManifestSchema.parse({ version: 1, runId, createdAt: '2026-11-23T12:00:00.000Z', requestedBy: { kind: 'cli' }, command: { name: 'st', type: 'RunShellScript', timeoutSeconds: 60 }, targets: [...ids, 'i-st9999'], skipped: [{ instanceId: 'i-st9999', reason: 'InstanceNotRunning' }], output: { mode: 'fetch' } });
  await store.put(runKeys.manifest(runId), JSON.stringify(manifest));
  return manifest;
}

const idsOf = (n: number, from = 1) => Array.from({ length: n }, (_, k) => `i-st${String(from + k).padStart(4, '0')}`);

function result(manifest: RunManifest, instanceId: string, options: { output?: string; failed?: boolean } = {}): InstanceResult {
  const output = options.output ?? `ok ${instanceId}\n`;
  const failed = options.failed ?? false;
  return { version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId, status: failed ? 'Failed' : 'Success', exitCode: failed ? 1 : 0, errorCode: failed ? 'ExitCodeNonzero' : '', errorInfo: '', output, outputBytes: Buffer.byteLength(output), source: 'event' };
}

/** The store with each GET of a key under `prefix` counted. */
function countingGets(prefix: string): { store: ObjectStore; gets: () => number } {
  let n = 0;
  const counted = Object.assign(Object.create(store) as AliOssStore, {
    get: (key: string) => {
      if (key.startsWith(prefix)) n++;
      return store.get(key);
    },
  });
  return { store: counted, gets: () => n };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

const deps = (s: ObjectStore = store) => ({ store: s, chat: NO_CHAT, logger });

async function summaryOf(manifest: RunManifest, stored?: StoredResults): Promise<RunSummary> {
  const outcome = await finishIfComplete(manifest, deps(), stored);
  if (outcome.state !== 'complete') throw new Error(`run ${manifest.runId} incomplete: ${outcome.have}/${outcome.want}`);
  return outcome.summary;
}

describe('Class: StoredResults', () => {
  it("sees another summarizer's batches from their names, reads them only once they could complete the run, and each once", async () => {
    const ids = idsOf(6);
    const manifest = await newRun(ids);
    const counted = countingGets(runKeys.storedPrefix(manifest.runId));
    const first = new StoredResults(counted.store);
    const second = new StoredResults(store);
    await first.storeBatch(manifest.runId, [result(manifest, ids[0]!, { output: `${'x'.repeat(5000)}END` }), result(manifest, ids[1]!)]);
    await second.storeBatch(manifest.runId, [result(manifest, ids[2]!), result(manifest, ids[3]!, { failed: true })]);
    // 2 of its own and 2 named in the other's key: 4 of 6, nothing read.
    expect(await first.progress(manifest)).toEqual({ have: 4, complete: false });
    expect(counted.gets()).toBe(0);
    // The rest, and the skipped instance (never counted).
    await second.storeBatch(manifest.runId, [result(manifest, ids[4]!), result(manifest, ids[5]!), result(manifest, 'i-st9999')]);
    expect(await first.progress(manifest)).toEqual({ have: 6, complete: true });
    expect(counted.gets()).toBe(2);
    expect(await first.progress(manifest)).toEqual({ have: 6, complete: true });
    expect(counted.gets()).toBe(2);
    // Folding reads nothing more: what it stored it kept (output cut to the tail), what it read it kept.
    const summary = await summaryOf(manifest, first);
    expect(counted.gets()).toBe(2);
    expect(summary.counts).toMatchObject({ total: 7, byClass: { success: 5, failed: 1, skipped: 1 } });
    const big = summary.instances.find((i) => i.instanceId === ids[0])!;
    expect(big.outputTail).toHaveLength(SUMMARY_TAIL_CHARS);
    expect(big.outputTail.endsWith('END')).toBe(true);
    expect(big.outputBytes).toBe(5003);
    // The fan-out's view: every instance named, the one that failed.
    const finished = await new StoredResults(store).finished(manifest);
    expect([...finished.done].sort()).toEqual([...ids, 'i-st9999']);
    expect([...finished.failed]).toEqual([ids[3]]);
  });

  it('stores a batch delivered again as nothing new: the same object, written once', async () => {
    const ids = idsOf(3);
    const manifest = await newRun(ids);
    const batch = ids.map((id) => result(manifest, id));
    expect(await new StoredResults(store).storeBatch(manifest.runId, batch)).toEqual({ instances: 3, state: 'written' });
    const before = await keysUnder(runKeys.storedPrefix(manifest.runId));
    // In another order, one result twice: the same batch.
    expect(await new StoredResults(store).storeBatch(manifest.runId, [batch[2]!, batch[0]!, batch[1]!, batch[0]!])).toEqual({ instances: 3, state: 'exists' });
    expect(await keysUnder(runKeys.storedPrefix(manifest.runId))).toEqual(before);
    expect(before).toHaveLength(1);
    // A warm instance that stored it (or read it) does not even send it again.
    const puts: string[] = [];
    const warm = new StoredResults(Object.assign(Object.create(store) as AliOssStore, { put: (key: string, body: string, o: object) => (puts.push(key), store.put(key, body, o)) }));
    await warm.storeBatch(manifest.runId, batch);
    expect(await warm.storeBatch(manifest.runId, batch)).toEqual({ instances: 3, state: 'exists' });
    expect(await warm.storeBatch(manifest.runId, [batch[1]!])).toEqual({ instances: 1, state: 'exists' });
    expect(puts).toHaveLength(1);
    expect(before[0]).toMatch(/\/stored\/[0-9a-f]{32}-3$/);
    // No result object of its own any more.
    expect(await keysUnder(runKeys.resultsPrefix(manifest.runId))).toEqual([]);
    expect((await summaryOf(manifest)).counts).toMatchObject({ total: 4, byClass: { success: 3, skipped: 1 } });
  });

  it('counts an instance stored in two batches once, with the result of the first batch in key order whoever folds', async () => {
    const ids = idsOf(4);
    const manifest = await newRun(ids);
    const shared = ids[1]!;
    // The same instance in two compositions, its output told apart.
    const a = [result(manifest, ids[0]!), result(manifest, shared, { output: 'from batch A\n' })];
    const b = [result(manifest, shared, { output: 'from batch B\n', failed: true }), result(manifest, ids[2]!), result(manifest, ids[3]!)];
    const winner = encodeResultBatch(a).name < encodeResultBatch(b).name ? 'from batch A\n' : 'from batch B\n';
    const warmA = new StoredResults(store);
    const warmB = new StoredResults(store);
    await warmA.storeBatch(manifest.runId, a);
    await warmB.storeBatch(manifest.runId, b);
    // Names add up to 5, yet 4 instances: each counted once once read.
    expect(await warmA.progress(manifest)).toEqual({ have: 4, complete: true });
    expect(await warmB.progress(manifest)).toEqual({ have: 4, complete: true });
    expect((await presentResults(store, manifest)).size).toBe(4);
    const folded: string[] = [];
    for (const view of [warmA, warmB, new StoredResults(store)]) {
      const rows: InstanceResult[] = [];
      await view.progress(manifest);
      await view.fold(manifest, (r) => rows.push(r));
      const kept = new Map<string, string>();
      for (const r of rows) if (!kept.has(r.instanceId)) kept.set(r.instanceId, r.output);
      expect(kept.size).toBe(4);
      folded.push(kept.get(shared)!);
    }
    expect(folded).toEqual([winner, winner, winner]);
    const summary = await summaryOf(manifest, warmB);
    expect(summary.counts).toMatchObject({ total: 5, byClass: { success: winner === 'from batch A\n' ? 4 : 3, failed: winner === 'from batch A\n' ? 0 : 1, skipped: 1 } });
    expect(summary.instances.find((i) => i.instanceId === shared)!.outputTail).toBe(winner);
    // The fan-out counts it failed if any batch says so: its count of failures only grows.
    expect([...(await finishedInStore(store, manifest)).failed]).toEqual([shared]);
  });

  it('completes a run stored half in the earlier layout (result objects and their markers), half in batch objects', async () => {
    const ids = idsOf(8);
    const manifest = await newRun(ids);
    // Before the upgrade: 4 result objects, 3 of them named by a marker (its summarizer stored the
    // fourth and died before marking it), one of them failed.
    const earlier = ids.slice(0, 4).map((id, n) => result(manifest, id, { failed: n === 1, output: `earlier ${id}\n` }));
    for (const r of earlier) await store.put(runKeys.result(manifest.runId, r.instanceId), `${JSON.stringify(r)}\n`, { contentType: 'application/json', forbidOverwrite: true });
    const markerBody = `${ids[0]}\n${ids[1]}\tfailed\n${ids[2]}\n`;
    await store.put(runKeys.stored(manifest.runId, 'a'.repeat(32)), markerBody, { contentType: 'text/plain' });
    // After it: the other 4 in a batch object, one failed.
    const warm = new StoredResults(store);
    await warm.storeBatch(manifest.runId, ids.slice(4).map((id, n) => result(manifest, id, { failed: n === 0 })));

    // A warm summarizer counts the marker's three and its own four; the unmarked one waits.
    expect(await warm.progress(manifest)).toEqual({ have: 7, complete: false });
    expect((await finishIfComplete(manifest, deps(), warm)).state).toBe('incomplete');
    // The reconciler and status list the earlier results once, and see all eight.
    expect((await presentResults(store, manifest)).size).toBe(8);
    const finished = await finishedInStore(store, manifest);
    expect(finished.done.size).toBe(8);
    expect([...finished.failed].sort()).toEqual([ids[1], ids[4]]);
    // Folded from both layouts, each instance once, with its own result.
    const summary = await summaryOf(manifest);
    expect(summary.counts).toMatchObject({ total: 9, byClass: { success: 6, failed: 2, skipped: 1 } });
    expect(summary.instances.find((i) => i.instanceId === ids[3])!.outputTail).toBe(`earlier ${ids[3]}\n`);
    expect(summary.instances.find((i) => i.instanceId === ids[5])!.outputTail).toBe(`ok ${ids[5]}\n`);
  });

  it('reads nothing of the earlier layout but one empty listing when a run has none', async () => {
    const ids = idsOf(3);
    const manifest = await newRun(ids);
    await new StoredResults(store).storeBatch(manifest.runId, ids.map((id) => result(manifest, id)));
    const counted = countingGets(runKeys.resultsPrefix(manifest.runId));
    const lists: string[] = [];
    const listing = Object.assign(counted.store, {
      list: (prefix: string) => {
        lists.push(prefix);
        return store.list(prefix);
      },
    });
    expect((await finishIfComplete(manifest, deps(listing))).state).toBe('complete');
    expect(counted.gets()).toBe(0);
    expect(lists.filter((p) => p === runKeys.resultsPrefix(manifest.runId))).toHaveLength(1);
  });
});
