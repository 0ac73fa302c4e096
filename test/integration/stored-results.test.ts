/**
 * Completion from markers against the local OSS: what one summarizer stored, another sees by
 * listing the run's markers once and reading the ones it has not seen; results a summarizer
 * stored itself are kept with outputs cut to the summary's tail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredResults } from '../../shared/pipeline/stored-results.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { SUMMARY_TAIL_CHARS } from '../../shared/runs/summary.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;
const ids = ['i-st0001', 'i-st0002', 'i-st0003', 'i-st0004'];
const manifest = runManifestSchema.parse({ version: 1, runId: 'r-20261123t120000-st0001', createdAt: '2026-11-23T12:00:00.000Z', requestedBy: { kind: 'cli' }, command: { name: 'st', type: 'RunShellScript', timeoutSeconds: 60 }, targets: [...ids, 'i-st0009'], skipped: [{ instanceId: 'i-st0009', reason: 'InstanceNotRunning' }], output: { mode: 'fetch' } });
const result = (instanceId: string, output = 'ok\n'): InstanceResult => ({ version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId, status: 'Success', exitCode: 0, errorCode: '', errorInfo: '', output, outputBytes: output.length, source: 'event' });

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => oss.close());

describe('Class: StoredResults', () => {
  it("sees another summarizer's batches through their markers, and reads each marker once", async () => {
    // Reads of markers are counted on the way to the real store.
    let markerReads = 0;
    const counted = Object.assign(Object.create(store) as AliOssStore, {
      get: (key: string) => {
        if (key.startsWith(runKeys.storedPrefix(manifest.runId))) markerReads++;
        return store.get(key);
      },
    });
    const first = new StoredResults(counted);
    const second = new StoredResults(store);
    await first.record(manifest, [ids[0]!, ids[1]!], [result(ids[0]!, `${'x'.repeat(5000)}END`)]);
    await second.record(manifest, [ids[2]!, ids[1]!], [result(ids[2]!)]);
    expect([...(await first.present(manifest))].sort()).toEqual(ids.slice(0, 3));
    // Its own marker it knew; the other's it read once, and not again.
    expect(markerReads).toBe(1);
    await first.present(manifest);
    expect(markerReads).toBe(1);
    // The skipped instance never counts, and what this instance stored is kept, cut to the tail.
    await second.record(manifest, [ids[3]!, 'i-st0009'], []);
    expect((await first.present(manifest)).size).toBe(4);
    const kept = first.kept(manifest.runId).get(ids[0]!)!;
    expect(kept.output).toHaveLength(SUMMARY_TAIL_CHARS);
    expect(kept.output.endsWith('END')).toBe(true);
    expect(kept.outputBytes).toBe(5003);
    expect(first.kept(manifest.runId).has(ids[2]!)).toBe(false);
  });

  it('writes the same marker for the same batch twice (a redelivery adds nothing)', async () => {
    const s = new StoredResults(store);
    const count = async () => {
      let n = 0;
      for await (const o of store.list(runKeys.storedPrefix(manifest.runId))) if (o.key) n++;
      return n;
    };
    const before = await count();
    await s.record(manifest, [ids[1]!, ids[0]!], []);
    expect(await count()).toBe(before);
  });
});
