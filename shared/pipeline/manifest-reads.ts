/**
 * A run's manifest as a warm instance reads it: fetched on every call (it changes — a fan-out's
 * final manifest replaces the open one), parsed once per content. The read is conditional on the
 * ETag last seen (If-None-Match), so an unchanged manifest costs a 304 without a body instead of
 * downloading and parsing 10,000 targets on every batch of results. Every caller of one store
 * shares the parsed manifest, so it is frozen: a caller that changed it would change it for the
 * others (and expectedInstances' set, keyed by the object, would no longer match it).
 */
import { runKeys } from '../runs/keys.ts';
import { runManifestSchema, type RunManifest } from '../runs/manifest.ts';
import type { ObjectStore } from '../store/port.ts';

interface Parsed {
  etag: string;
  manifest: RunManifest;
}

/** Per store (client): a warm instance's runs, least recently read first. */
const PARSED = new WeakMap<ObjectStore, Map<string, Parsed>>();

/** Runs whose manifest a warm instance keeps parsed; a 10,000-target manifest is about a megabyte. */
const MAX_RUNS = 20;

export async function readManifest(store: ObjectStore, runId: string): Promise<RunManifest | undefined> {
  let runs = PARSED.get(store);
  if (!runs) PARSED.set(store, (runs = new Map()));
  const known = runs.get(runId);
  const got = await store.getIfChanged(runKeys.manifest(runId), known?.etag);
  runs.delete(runId);
  if (got === undefined) return undefined;
  if (got === 'unchanged') {
    if (!known) throw new Error(`manifest of run ${runId} answered Not Modified to a read that named no ETag`);
    runs.set(runId, known);
    return known.manifest;
  }
  const manifest = deepFreeze(runManifestSchema.parse(JSON.parse(got.body.toString('utf8'))));
  if (got.etag) {
    runs.set(runId, { etag: got.etag, manifest });
    if (runs.size > MAX_RUNS) runs.delete(runs.keys().next().value!);
  }
  return manifest;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
