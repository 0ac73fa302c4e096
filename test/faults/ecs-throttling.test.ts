/**
 * A 1,000-instance run dispatched by the dispatch function while the ECS API throttles 30 % of
 * calls and answers 5 % with a 5xx, and a share of the writes are applied and then answered 5xx
 * (the response lost) — the case where a retry without a ClientToken would run the command twice,
 * and where giving up would report as never sent instances that run. Synthetic agents (no process
 * per instance) still report through TaskCompleted events, task-events and the summarizer. The
 * end: every instance executed once, one invocation per batch, and an exact summary of 1,000.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../shared/cloud-assistant/retry.ts';
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import type { DispatchRequestInput } from '../../shared/chatops/dispatch-request.ts';
import { readManifest } from '../../shared/pipeline/finish-run.ts';
import { newRunId } from '../../shared/pipeline/start-run.ts';
import { fleetOf, startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { expectedStatuses } from '../support/fault-runs.ts';

const N = 1000;
const idOf = (n: number) => `i-thr${String(n).padStart(6, '0')}`;
/** Every 50th instance's script exits 3, so the summary has two statuses to get right. */
const fails = (instanceId: string) => Number(instanceId.slice(-6)) % 50 === 7;

/** A run as chatops hands it to dispatch: `echo checked` on every instance tagged env=`env`. */
function echoRun(name: string, env: string): DispatchRequestInput {
  return {
    version: 1,
    kind: 'run',
    runId: newRunId(),
    requestedBy: { kind: 'api' },
    command: { name, type: 'RunShellScript', script: 'echo checked', timeoutSeconds: 60 },
    targets: { tags: { env } },
  };
}

let pc: PipelineCloud | undefined;
afterEach(async () => {
  await pc?.close();
  pc = undefined;
});

describe('ECS throttling and 5xx during a 1,000-instance dispatch', () => {
  it('runs every instance once and ends in an exact summary', async () => {
    // Prepare
    pc = await startPipelineCloud(fleetOf('thr', [{ name: 'node', count: N }]), {
      ecs: {
        synthetic: ({ instanceId }) => ({ durationMs: 20 + (Number(instanceId.slice(-3)) % 13) * 10, exitCode: fails(instanceId) ? 3 : 0, output: `checked ${instanceId}\n` }),
        // Every call: 30 % throttled, 5 % a 5xx before anything is done. Writes besides: 15 % applied
        // and then answered 5xx, so that some of the ten RunCommand calls do lose their answer.
        // Seeded, and the draws fall the same way on every run: targeting's reads go one at a
        // time, and every write draws alike whichever batch it carries.
        faults: { throttleRate: 0.3, errorRate: 0.05, errorAfterApplyRate: 0.15, retryAfterMs: 50, seed: 20 },
      },
    });
    const expected = new Map<string, InstanceStatus>(Array.from({ length: N }, (_, n) => [idOf(n), fails(idOf(n)) ? 'Failed' : 'Success']));
    const request = echoRun('throttle-check', 'thr');
    const runId = request.runId;

    // Act: the dispatch function, in its own process with its own ECS client, as chatops hands it a run.
    const outcomes = await pc.cloud.fc!.invoke('fleetrun-dispatch', request);

    // Assess
    expect(outcomes).toEqual([{ kind: 'run', runId, state: 'dispatched' }]);
    const ecs = pc.cloud.ecs;
    expect(ecs.faults.counts.throttled).toBeGreaterThan(0);
    expect(ecs.faults.counts.errors).toBeGreaterThan(0);
    // Writes were applied and their answers lost, and the retries got the first answers back.
    expect(ecs.faults.counts.errorsAfterApply).toBeGreaterThan(0);
    expect(ecs.service.idempotentReplays).toBeGreaterThanOrEqual(ecs.faults.counts.errorsAfterApply);

    const manifest = (await readManifest(pc.store, runId))!;
    expect(manifest.skipped).toEqual([]);
    expect(manifest.invocations).toHaveLength(N / 100);
    // One invocation per batch of 100 exists on the service, however many times each was sent.
    expect([...ecs.service.invocations.keys()].sort()).toEqual(manifest.invocations.map((i) => i.invokeId).sort());

    // Some 1,000 events through task-events and the summarizer: the slow part on a shared 2-core machine.
    const summary = await summaryOf(pc.store, runId, 90_000);
    expectExactSummary(summary, expected);
    expect(summary.status).toBe('PartialFailed');
    expect(ecs.agents.executionLog).toHaveLength(N);
    expectEachExecutedOnce(ecs);
  }, 120_000);

  it('a write applied whose answer is lost, then throttled past every retry, is neither lost nor sent twice', async () => {
    // Prepare: one call of 100. The first RunCommand is applied and its answer lost; every retry the
    // client has left is throttled; then the API recovers. Each response is logged once it is sent,
    // before the client can try again, so each switch lands between two attempts.
    const SMALL = 100;
    const RETRIES = DEFAULT_RETRY_POLICY.maxAttempts - 1;
    let throttledWrites = 0;
    pc = await startPipelineCloud(fleetOf('lost', [{ name: 'node', count: SMALL }]), {
      ecs: { synthetic: ({ instanceId }) => ({ durationMs: 30, exitCode: 0, output: `checked ${instanceId}\n` }), faults: { errorAfterApplyRate: 1, retryAfterMs: 20 } },
      log: (line) => {
        const faults = pc?.cloud.ecs.faults;
        if (!faults || !line.startsWith('[ecs] RunCommand ')) return;
        if (line.includes('(after applying)')) faults.configure({ errorAfterApplyRate: 0, throttleRate: 1 });
        else if (line.includes('Throttling') && ++throttledWrites === RETRIES) faults.configure({ throttleRate: 0 });
      },
    });
    const request = echoRun('lost-answer', 'lost');
    const runId = request.runId;

    // Act
    await pc.cloud.fc!.invoke('fleetrun-dispatch', request);

    // Assess: the lost write was recovered by its ClientToken, not reported as never sent.
    const ecs = pc.cloud.ecs;
    expect(ecs.faults.counts.errorsAfterApply).toBe(1);
    expect(throttledWrites).toBe(RETRIES);
    const manifest = (await readManifest(pc.store, runId))!;
    expect(manifest.skipped).toEqual([]);
    expect([...ecs.service.invocations.keys()].sort()).toEqual(manifest.invocations.map((i) => i.invokeId).sort());
    const summary = await summaryOf(pc.store, runId);
    expectExactSummary(summary, expectedStatuses('lost', SMALL, 0));
    expect(ecs.agents.executionLog).toHaveLength(SMALL);
    expectEachExecutedOnce(ecs);
  }, 60_000);
});
