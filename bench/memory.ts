/**
 * Memory: peak RSS of summarize folding a run of N instances with 24 KB outputs each, at two sizes
 * side by side. Folding must stream (keep a short tail per instance), so the peak stays nearly flat.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runKeys } from '../shared/runs/keys.ts';
import { runManifestSchema } from '../shared/runs/manifest.ts';
import { instanceResultSchema } from '../shared/runs/result.ts';
import { encodeResultBatch } from '../shared/pipeline/result-batch.ts';
import { startOssEmulator } from '../local/oss/server.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
/**
 * What one summarize delivery stores as one object: the results trigger's CountBasedWindow of 100
 * messages, each holding one result of this size (a message packs 48 KB of JSON: two do not fit).
 */
const RESULTS_PER_BATCH = 100;

export interface MemoryPoint {
  instances: number;
  peakRssBytes: number;
  seconds: number;
}

async function point(instances: number): Promise<MemoryPoint> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-mem-'));
  const oss = await startOssEmulator({ accessKeys: { mem: 'mem-secret-value' }, dataDir, buckets: ['fleetrun-runs'] });
  try {
    const runId = `r-20261123t100000-m${String(instances).padStart(5, '0')}`;
    const ids = Array.from({ length: instances }, (_, i) => `i-mem${String(i).padStart(8, '0')}`);
    const manifest = runManifestSchema.parse({ version: 1, runId, createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'cli' }, command: { name: 'mem', type: 'RunShellScript', timeoutSeconds: 60 }, targets: ids, output: { mode: 'fetch' } });
    await oss.store.put('fleetrun-runs', runKeys.manifest(runId), Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' });
    const output = `${'x'.repeat(79)}\n`.repeat(300).slice(0, 24 * 1024);
    // Stored as summarize stores them: one object per delivery of up to 100 results (stored-results.ts).
    for (let i = 0; i < ids.length; i += RESULTS_PER_BATCH) {
      const results = ids.slice(i, i + RESULTS_PER_BATCH).map((id) => instanceResultSchema.parse({ version: 1, runId, invokeId: 't-1', commandId: 'c-1', instanceId: id, status: 'Success', exitCode: 0, errorCode: '', errorInfo: '', startTime: '2026-11-23T10:00:00Z', finishTime: '2026-11-23T10:00:05Z', output, outputBytes: output.length, source: 'event' }));
      const { name, body } = encodeResultBatch(results);
      await oss.store.put('fleetrun-runs', runKeys.stored(runId, name), Buffer.from(body), { contentType: 'application/x-ndjson' });
    }
    const { stdout } = await run(process.execPath, ['--import', TSX, CHILD, oss.endpoint, runId], { maxBuffer: 1024 * 1024 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { state: string; seconds: number; peakRssBytes: number };
    if (r.state !== 'complete') throw new Error(`the ${instances}-instance run did not complete`);
    return { instances, peakRssBytes: r.peakRssBytes, seconds: r.seconds };
  } finally {
    await oss.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchMemory(small = 1000, large = 10_000): Promise<{ small: MemoryPoint; large: MemoryPoint; peakRssGrowth: number }> {
  const a = await point(small);
  const b = await point(large);
  return { small: a, large: b, peakRssGrowth: b.peakRssBytes / a.peakRssBytes };
}
