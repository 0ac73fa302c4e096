/**
 * summarize: result messages in (an MNS event-streaming batch, as the envelope took it apart: each
 * message a result, or failed with a reason), each stored under a key that makes a duplicate
 * harmless; then every run the batch touched moves on: a concurrency-limited run whose fan-out is
 * open sends what these results made due (fan-out.ts), and a run is finished if it is complete. A
 * bad message is logged and skipped; a store failure fails the batch so it is delivered again. A
 * wave that cannot be sent from here is logged and left to the reconciler, which sends what is due
 * on every tick: the results are stored, and sending the batch back would not bring the wave.
 */
import { statusClass } from '../cloud-assistant/statuses.ts';
import { runKeys } from '../runs/keys.ts';
import type { RunManifest } from '../runs/manifest.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import type { ParsedRecord } from '../runtime/envelopes/envelope.ts';
import { mnsEventStreamingEnvelope, type MnsTriggerParameters } from '../runtime/envelopes/mns-event-streaming.ts';
import { advanceFanOut, type FanOutDeps } from './fan-out.ts';
import { finishIfComplete, readManifest, type FinishDeps, type FinishOutcome, type KnownResults } from './finish-run.ts';
import { finishedInStore, type StoredResults } from './stored-results.ts';

export interface SummarizeOutcome {
  stored: number;
  duplicates: number;
  skipped: { id: string; reason: string }[];
  runs: Record<string, FinishOutcome['state'] | 'no-manifest'>;
}

/** The results queue's messages as its trigger delivers them: one InstanceResult (JSON) each. */
export function resultMessagesEnvelope(trigger: MnsTriggerParameters) {
  return mnsEventStreamingEnvelope(trigger, instanceResultSchema);
}

/** Result objects written at once. */
const WRITE_CONCURRENCY = 16;

export interface SummarizeDeps extends FinishDeps {
  /** Kept by a warm instance: markers of stored results, and the results it stored itself. */
  stored?: StoredResults;
  /** What sending a concurrency-limited run's next wave takes; without it, waves wait for the reconciler. */
  fanOut?: Pick<FanOutDeps, 'assistant' | 'regionId' | 'sealKey'>;
}

export async function handleResultMessages(messages: ParsedRecord<InstanceResult>[], deps: SummarizeDeps): Promise<SummarizeOutcome> {
  const outcome: SummarizeOutcome = { stored: 0, duplicates: 0, skipped: [], runs: {} };
  const touched = new Map<string, { ids: string[]; written: InstanceResult[]; failed: string[] }>();
  const results: InstanceResult[] = [];
  for (const message of messages) {
    if (!message.ok) {
      outcome.skipped.push({ id: message.id, reason: message.reason });
      deps.logger.warn('message skipped', { id: message.id, reason: message.reason });
      continue;
    }
    results.push(message.record);
  }
  // Stored a few at a time: a batch holds up to 100 results and each write waits on OSS.
  for (let i = 0; i < results.length; i += WRITE_CONCURRENCY) {
    const chunk = results.slice(i, i + WRITE_CONCURRENCY);
    const written = await Promise.all(chunk.map((r) => deps.store.put(runKeys.result(r.runId, r.instanceId), `${JSON.stringify(r)}\n`, { contentType: 'application/json', forbidOverwrite: true })));
    written.forEach((w, n) => {
      const r = chunk[n]!;
      if (w === 'written') outcome.stored++;
      else outcome.duplicates++;
      const run = touched.get(r.runId) ?? { ids: [], written: [], failed: [] };
      run.ids.push(r.instanceId);
      if (statusClass(r.status) !== 'success') run.failed.push(r.instanceId);
      if (w === 'written') run.written.push(r);
      touched.set(r.runId, run);
    });
  }
  for (const [runId, batch] of [...touched].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let manifest = await readManifest(deps.store, runId);
    if (!manifest) {
      deps.logger.warn('results for a run without a manifest', { runId });
      outcome.runs[runId] = 'no-manifest';
      continue;
    }
    await deps.stored?.record(manifest, batch.ids, batch.written, batch.failed);
    if (manifest.fanOut === 'open' && manifest.maxConcurrency !== undefined && deps.fanOut) manifest = await nextWave(manifest, deps, deps.fanOut);
    let known: KnownResults | undefined;
    if (deps.stored) known = { present: await deps.stored.present(manifest), kept: deps.stored.kept(runId) };
    const finished = await finishIfComplete(manifest, deps, known);
    outcome.runs[runId] = finished.state;
    if (finished.state === 'complete') deps.stored?.forget(runId);
  }
  return outcome;
}

/** The run's manifest after sending what the results stored so far made due; as it was if that failed (logged). */
async function nextWave(manifest: RunManifest, deps: SummarizeDeps, fanOut: NonNullable<SummarizeDeps['fanOut']>): Promise<RunManifest> {
  try {
    const stored = deps.stored;
    const advanced = await advanceFanOut(manifest, { ...deps, ...fanOut }, { finished: () => (stored ? stored.finished(manifest) : finishedInStore(deps.store, manifest)) });
    return advanced.manifest;
  } catch (e) {
    deps.logger.error('the next wave could not be sent from here; the reconciler sends it', { runId: manifest.runId, error: (e as Error).message });
    return manifest;
  }
}
