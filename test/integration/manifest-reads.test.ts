/**
 * A run's manifest through the local OSS as a warm instance reads it: fetched every time, with
 * If-None-Match, and parsed again only when its bytes changed (the emulator answers 304 otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../shared/pipeline/finish-run.ts';
import { expectedInstances, runManifestSchema } from '../../shared/runs/manifest.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;
const targets = Array.from({ length: 2000 }, (_, n) => `i-mr${String(n).padStart(6, '0')}`);
const manifest = runManifestSchema.parse({ version: 1, runId: 'r-20261123t120000-mr0001', createdAt: '2026-11-23T12:00:00.000Z', requestedBy: { kind: 'cli' }, command: { name: 'mr', type: 'RunShellScript', timeoutSeconds: 60 }, targets, fanOut: 'open', output: { mode: 'fetch' } });
const key = runKeys.manifest(manifest.runId);

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => oss.close());

/** The emulator's answers to GETs of the manifest since `from`, by status. */
function manifestGets(from: number): string[] {
  return oss.lines.slice(from).filter((l) => l.includes(`GetObject ${BUCKET}/${key} `)).map((l) => (/ (200|304|404)\b/.exec(l) ?? ['?', '?'])[1]!);
}

describe('readManifest', () => {
  it('parses a manifest once per content: an unchanged one comes back as a 304 and the same object', async () => {
    expect(await readManifest(store, manifest.runId)).toBeUndefined();
    await store.put(key, JSON.stringify(manifest));
    const from = oss.lines.length;
    const first = (await readManifest(store, manifest.runId))!;
    const second = (await readManifest(store, manifest.runId))!;
    const third = (await readManifest(store, manifest.runId))!;
    expect(manifestGets(from)).toEqual(['200', '304', '304']);
    expect(second).toBe(first);
    expect(third).toBe(first);
    // What is derived from it is kept with it.
    expect(expectedInstances(third)).toBe(expectedInstances(first));
    expect(first.targets).toHaveLength(2000);
  });

  it('reads and parses it again once it changed, and forgets it once it is gone', async () => {
    const before = (await readManifest(store, manifest.runId))!;
    await store.put(key, JSON.stringify({ ...manifest, fanOut: 'done' }));
    const from = oss.lines.length;
    const after = (await readManifest(store, manifest.runId))!;
    expect(manifestGets(from)).toEqual(['200']);
    expect(after).not.toBe(before);
    expect(after.fanOut).toBe('done');
    await store.delete(key);
    expect(await readManifest(store, manifest.runId)).toBeUndefined();
  });

  it('hands out a frozen manifest: a caller cannot change it for the others', async () => {
    await store.put(key, JSON.stringify(manifest));
    const m = (await readManifest(store, manifest.runId))!;
    expect(() => (m.targets as string[]).push('i-extra')).toThrow(TypeError);
    expect(() => Object.assign(m.command, { name: 'other' })).toThrow(TypeError);
    expect((await readManifest(store, manifest.runId))!.targets).toHaveLength(2000);
  });

  it('works the same on the in-memory store the unit tests use', async () => {
    const memory = new MemoryStore();
    await memory.put(key, JSON.stringify(manifest));
    const first = (await readManifest(memory, manifest.runId))!;
    expect(await readManifest(memory, manifest.runId)).toBe(first);
    await memory.put(key, JSON.stringify({ ...manifest, fanOut: 'done' }));
    expect((await readManifest(memory, manifest.runId))!.fanOut).toBe('done');
  });
});
