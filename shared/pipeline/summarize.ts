/**
 * summarize: result messages in (an MNS event-streaming batch, as the envelope took it apart: each
 * result its messages carry, or a record failed with a reason), each run's results stored together as one object
 * named by the hash of its bytes, so a batch delivered again changes nothing (stored-results.ts);
 * then every run the batch touched moves on: a concurrency-limited run whose fan-out is
 * open sends what these results made due (fan-out.ts), and a run is finished if it is complete. A
 * bad message is logged and skipped; a store failure fails the batch so it is delivered again. A
 * wave that cannot be sent from here is logged and left to the reconciler, which sends what is due
 * on every tick: the results are stored, and sending the batch back would not bring the wave.
 */
import { resultMessageContent } from '../queue/result-packing.ts';
import type { RunManifest } from '../runs/manifest.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import type { ParsedRecord } from '../runtime/envelopes/envelope.ts';
import { mnsEventStreamingEnvelope, type MnsTriggerParameters } from '../runtime/envelopes/mns-event-streaming.ts';
import { advanceFanOut, type FanOutDeps } from './fan-out.ts';
import { finishIfComplete, readManifest, type FinishDeps, type FinishOutcome } from './finish-run.ts';
import { StoredResults } from './stored-results.ts';

export interface SummarizeOutcome {
  stored: number;
  duplicates: number;
  skipped: { id: string; reason: string }[];
  runs: Record<string, FinishOutcome['state'] | 'no-manifest'>;
}

/**
 * The results queue's messages as its trigger delivers them: a record per InstanceResult, whether
 * its message carried it alone or packed with others (shared/queue/result-packing.ts); a packed
 * result is named `<messageId>#<index>`, and a bad one fails alone.
 */
export function resultMessagesEnvelope(trigger: MnsTriggerParameters) {
  return mnsEventStreamingEnvelope(trigger, instanceResultSchema, resultMessageContent);
}

export interface SummarizeDeps extends FinishDeps {
  /** Kept by a warm instance: the runs' batch objects it listed, and the results it stored or read to fold. */
  stored?: StoredResults;
  /** What sending a concurrency-limited run's next wave takes; without it, waves wait for the reconciler. */
  fanOut?: Pick<FanOutDeps, 'assistant' | 'regionId' | 'sealKey'>;
}

export async function handleResultMessages(messages: ParsedRecord<InstanceResult>[], deps: SummarizeDeps): Promise<SummarizeOutcome> {
  const outcome: SummarizeOutcome = { stored: 0, duplicates: 0, skipped: [], runs: {} };
  const stored = deps.stored ?? new StoredResults(deps.store);
  const byRun = new Map<string, InstanceResult[]>();
  for (const message of messages) {
    if (!message.ok) {
      outcome.skipped.push({ id: message.id, reason: message.reason });
      deps.logger.warn('message skipped', { id: message.id, reason: message.reason });
      continue;
    }
    const r = message.record;
    const run = byRun.get(r.runId);
    if (run) run.push(r);
    else byRun.set(r.runId, [r]);
  }
  const runs = [...byRun].sort(([a], [b]) => (a < b ? -1 : 1));
  // Each run's results in this batch as one object: the same batch delivered again is the same object.
  for (const [runId, results] of runs) {
    const { instances, state } = await stored.storeBatch(runId, results);
    if (state === 'written') outcome.stored += instances;
    outcome.duplicates += results.length - (state === 'written' ? instances : 0);
  }
  for (const [runId] of runs) {
    let manifest = await readManifest(deps.store, runId);
    if (!manifest) {
      deps.logger.warn('results for a run without a manifest', { runId });
      outcome.runs[runId] = 'no-manifest';
      stored.forget(runId);
      continue;
    }
    if (manifest.fanOut === 'open' && manifest.maxConcurrency !== undefined && deps.fanOut) manifest = await nextWave(manifest, deps, stored, deps.fanOut);
    const finished = await finishIfComplete(manifest, deps, stored);
    outcome.runs[runId] = finished.state;
    if (finished.state === 'complete') stored.settled(runId);
  }
  return outcome;
}

/** The run's manifest after sending what the results stored so far made due; as it was if that failed (logged). */
async function nextWave(manifest: RunManifest, deps: SummarizeDeps, stored: StoredResults, fanOut: NonNullable<SummarizeDeps['fanOut']>): Promise<RunManifest> {
  try {
    const advanced = await advanceFanOut(manifest, { ...deps, ...fanOut }, { finished: () => stored.finished(manifest) });
    return advanced.manifest;
  } catch (e) {
    deps.logger.error('the next wave could not be sent from here; the reconciler sends it', { runId: manifest.runId, error: (e as Error).message });
    return manifest;
  }
}
