/**
 * Idle connections closed under the functions' calls: every third call to OSS on a connection kept
 * alive from an earlier call is closed without an answer (each request once at most), so is the
 * first result send to MNS, and half of the ECS calls are. Each call is sent once more by the function
 * that made it, so no event fails and no queue delivery does: the run ends in one exact summary
 * with nothing executed twice, nothing dead-lettered, and the bus never had to deliver again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { DEAD_LETTERS, expectedStatuses, FINE_OR_FAILING_SCRIPT, queued, RESULTS_QUEUE } from '../support/fault-runs.ts';

const WEB = 18;
/** The ECS faults' draws (0.16, 0.63, 0.30, 0.70, 0.59, …): two of the dispatch's calls are reset once each. */
const SEED = 8;
const BAD = 2;

let pc: PipelineCloud | undefined;
afterEach(async () => {
  await pc?.close();
  pc = undefined;
});

describe('connections closed without an answer under the functions', () => {
  it('are sent again by the call that met them: one exact summary, no event or delivery failed', async () => {
    // Prepare
    pc = await startPipelineCloud(fleetOf('reset', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]), { queueVisibilitySeconds: 2 });
    const cloud = pc.cloud;
    const resets = { oss: 0, mns: 0 };
    let ossReused = 0;
    // The harness's own reads meet them too; they go through the same store code. A request is
    // closed under at most once: its second attempt may well take another kept-alive connection.
    const closedUnder = new Set<string>();
    cloud.oss.faults.reset = ({ action, bucket, key, reused }) => {
      const request = `${action} ${bucket}/${key}`;
      if (!reused || closedUnder.has(request) || ++ossReused % 3 !== 0) return false;
      closedUnder.add(request);
      resets.oss++;
      return true;
    };
    // task-events sends a batch's results once per invocation, often on a fresh connection: the
    // first send is closed under it, whichever connection it took.
    cloud.mns.faults.reset = ({ action, queueName }) => {
      if (action !== 'BatchSendMessage' || queueName !== RESULTS_QUEUE || resets.mns > 0) return false;
      resets.mns++;
      return true;
    };
    const source = cloud.fc!.sources[0]!;

    // Act
    cloud.ecs.faults.configure({ resetRate: 0.5, seed: SEED });
    const manifest = await pc.run({
      command: { name: 'reset-check', type: 'RunShellScript', script: FINE_OR_FAILING_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'reset' } },
      requestedBy: { kind: 'cli' },
    });
    const summary = await summaryOf(pc.store, manifest.runId);
    await waitUntil(async () => (await queued(pc!, RESULTS_QUEUE)) === 0, 15_000, 'an empty results queue');

    // Assess: the resets happened, and none of them cost a redelivery.
    expect(resets.oss).toBeGreaterThan(0);
    expect(resets.mns).toBeGreaterThan(0);
    expect(cloud.ecs.faults.counts.resets).toBeGreaterThan(0);
    expectExactSummary(summary, expectedStatuses('reset', WEB, BAD));
    expect(summary.status).toBe('PartialFailed');
    expect(cloud.bus.counts.failures).toBe(0);
    expect(cloud.bus.deadLetters).toEqual([]);
    expect(source.counts.failedBatches).toBe(0);
    expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(WEB + BAD);
  }, 60_000);
});
