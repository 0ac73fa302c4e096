/**
 * The pipeline under the faults an at-least-once platform brings: TaskCompleted events duplicated,
 * shuffled and dropped (the reconciler fills the gap), and the summarizer's process killed between
 * writing the results and the summary (MNS redelivers after the visibility timeout). Each ends in
 * one exact summary, with no command run twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../shared/runs/keys.ts';
import type { RunSummary } from '../../shared/runs/summary.ts';
import { fleetOf, startPipelineCloud, waitForObject, waitUntil, type PipelineCloud } from '../support/pipeline-cloud.ts';

const SCRIPT = 'case "{{ACS::InstanceName}}" in bad-*) echo failing; exit 4 ;; *) echo "fine {{ACS::InstanceName}}" ;; esac';
let pc: PipelineCloud | undefined;
afterEach(async () => {
  await pc?.close();
  pc = undefined;
});

function executedOnce(pc: PipelineCloud): void {
  const seen = new Set<string>();
  for (const e of pc.cloud.ecs.agents.executionLog) {
    const key = `${e.invokeId}/${e.instanceId}/${e.repeat}`;
    expect(seen.has(key), `ran twice: ${key}`).toBe(false);
    seen.add(key);
  }
}

describe('faults in the event pipeline', () => {
  it('events duplicated 3×, shuffled and 10% dropped still end in one exact summary', async () => {
    pc = await startPipelineCloud(fleetOf('chaos', [{ name: 'web', count: 36 }, { name: 'bad', count: 4 }]), {
      chaos: { copies: 3, reorderWindowMs: 200, dropRate: 0.1, seed: 42 },
      functionEnv: { FLEETRUN_RECONCILE_GRACE_SECONDS: '0' },
    });
    const manifest = await pc.run({ command: { name: 'chaos-check', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 10 }, targets: { tags: { env: 'chaos' } }, requestedBy: { kind: 'cli' } });
    await waitUntil(() => pc!.cloud.ecs.events.emitted.length === 40, 30_000, 'every instance to finish');
    await pc.cloud.bus.drain();
    expect(pc.cloud.bus.counts.dropped).toBeGreaterThan(0);
    // With events lost, the run cannot finish by events alone.
    expect(await pc.store.get(runKeys.summaryJson(manifest.runId))).toBeUndefined();

    // The reconciler's tick, once the run is past its timeout (10 s) plus the grace (0 here).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(manifest.createdAt) + 10_500 - Date.now())));
    const tick = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { runsRepaired: string[]; resultsFed: number; calls: number };
    expect(tick.runsRepaired).toEqual([manifest.runId]);
    expect(tick.resultsFed).toBe(pc.cloud.bus.counts.dropped);
    expect(tick.calls).toBe(1);

    const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(manifest.runId), 30_000)).toString()) as RunSummary;
    expect(summary.counts.total).toBe(40);
    expect(summary.counts.byStatus).toEqual({ Failed: 4, Success: 36 });
    expect(new Set(summary.instances.map((i) => i.instanceId)).size).toBe(40);
    executedOnce(pc);
    expect(pc.cloud.ecs.calls.DescribeInvocations ?? 0).toBe(0);

    // A second tick finds nothing to do and makes no call: a complete run is never touched.
    const again = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { runsChecked: number; calls: number };
    expect([again.runsChecked, again.calls]).toEqual([0, 0]);
  }, 90_000);

  it('a summarizer killed between writing results and the summary is redelivered and finishes the run', async () => {
    pc = await startPipelineCloud(fleetOf('kill', [{ name: 'web', count: 8 }]), { queueVisibilitySeconds: 2 });
    const summarize = pc.cloud.fc!.functions.get('fleetrun-summarize')!;
    let killed = 0;
    // Hold the first write of the summary, and kill the function's process while it waits.
    pc.cloud.oss.faults.delay = ({ action, key }) => {
      if (action !== 'PutObject' || !key.endsWith('/summary.md') || killed > 0) return 0;
      killed++;
      setTimeout(() => summarize.kill(), 50);
      return 1000;
    };
    const manifest = await pc.run({ command: { name: 'kill-check', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 10 }, targets: { tags: { env: 'kill' } }, requestedBy: { kind: 'cli' } });
    await waitUntil(() => summarize.stats.crashes > 0, 30_000, 'the summarizer to be killed');
    // All results were written before it died; the summary was not.
    let results = 0;
    for await (const o of pc.store.list(runKeys.resultsPrefix(manifest.runId))) if (o.key) results++;
    expect(results).toBe(8);

    const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(manifest.runId), 30_000)).toString()) as RunSummary;
    expect(summary.counts).toMatchObject({ total: 8, byStatus: { Success: 8 } });
    expect(summarize.stats.coldStarts).toBeGreaterThanOrEqual(2);
    executedOnce(pc);
  }, 90_000);
});
