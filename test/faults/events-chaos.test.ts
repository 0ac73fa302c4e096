/**
 * TaskCompleted events as an at-least-once bus may deliver them: every event three times, shuffled
 * within a window, and 10 % of them lost. Duplicates must fold into one result per instance, and
 * the reconciler must find what was lost (one DescribeInvocationResults call for the run, nothing
 * on a second tick), so the run still ends in one exact summary with nothing executed twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../shared/runs/keys.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { expectedStatuses, FINE_OR_FAILING_SCRIPT } from '../support/fault-runs.ts';

const WEB = 36;
const BAD = 4;
const TIMEOUT_SECONDS = 10;

let pc: PipelineCloud | undefined;
afterEach(async () => {
  await pc?.close();
  pc = undefined;
});

describe('TaskCompleted events duplicated, shuffled and dropped', () => {
  it('end in one exact summary: duplicates fold, the reconciler fills the gap once', async () => {
    // Prepare
    pc = await startPipelineCloud(fleetOf('chaos', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]), {
      chaos: { copies: 3, reorderWindowMs: 200, dropRate: 0.1, seed: 42 },
      functionEnv: { FLEETRUN_RECONCILE_GRACE_SECONDS: '0' },
    });
    const expected = expectedStatuses('chaos', WEB, BAD);

    // Act
    const manifest = await pc.run({
      command: { name: 'chaos-check', type: 'RunShellScript', script: FINE_OR_FAILING_SCRIPT, timeoutSeconds: TIMEOUT_SECONDS },
      targets: { tags: { env: 'chaos' } },
      requestedBy: { kind: 'cli' },
    });
    await waitUntil(() => pc!.cloud.ecs.events.emitted.length === WEB + BAD, 30_000, 'every instance to finish');
    await pc.cloud.bus.drain();

    // Assess: the chaos happened, and with events lost the run cannot finish by events alone.
    const { published, dropped, eventsDelivered } = pc.cloud.bus.counts;
    expect(published).toBe(WEB + BAD);
    expect(dropped).toBeGreaterThan(0);
    expect(pc.cloud.bus.deadLetters).toEqual([]);
    // Each event that survived reached task-events three times (in s.yaml's batches: counted by event, not by push).
    expect(eventsDelivered).toBe(3 * (published - dropped));
    expect(await pc.store.get(runKeys.summaryJson(manifest.runId))).toBeUndefined();

    // The reconciler's tick, once the run is past its timeout plus the grace (0 here).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(manifest.createdAt) + TIMEOUT_SECONDS * 1000 + 500 - Date.now())));
    const tick = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { runsRepaired: string[]; resultsFed: number; calls: number };
    expect(tick.runsRepaired).toEqual([manifest.runId]);
    expect(tick.resultsFed).toBe(dropped);
    expect(tick.calls).toBe(1);

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expected);
    expect(summary.status).toBe('PartialFailed');
    expectEachExecutedOnce(pc.cloud.ecs);
    expect(pc.cloud.ecs.agents.executionLog).toHaveLength(WEB + BAD);
    expect(pc.cloud.ecs.calls.DescribeInvocations ?? 0).toBe(0);

    // A second tick finds nothing to do and makes no call: a complete run is never touched.
    const again = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { runsChecked: number; calls: number };
    expect([again.runsChecked, again.calls]).toEqual([0, 0]);
  }, 60_000);
});
