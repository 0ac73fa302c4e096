/**
 * Cloud Assistant's output objects landing 1.5 s after their TaskCompleted events (the local
 * cloud's modelled delay), through the whole pipeline with s.yaml's functions: within
 * FLEETRUN_OUTPUT_WAIT_MS (s.yaml's 20 s) task-events waits for them and makes no ECS read; with
 * the bound below the delay it reads the results from ECS instead. Either way every instance's
 * output in the summary is its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fleetOf, startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { LOCAL_INSTANCES_PER_FUNCTION } from '../../local/local-cloud.ts';
import { expectEachExecutedOnce, summaryOf } from '../support/run-checks.ts';

const INSTANCES = 6;
const SCRIPT = 'echo "delivered late by {{ACS::InstanceName}}"';

let pc: PipelineCloud | undefined;
afterEach(async () => {
  await pc?.close();
  pc = undefined;
});

const reads = (p: PipelineCloud) => (p.cloud.ecs.calls.DescribeInvocations ?? 0) + (p.cloud.ecs.calls.DescribeInvocationResults ?? 0);

async function runWithLateOutputs(functionEnv: Record<string, string>): Promise<{ outputs: Record<string, string>; reads: number; pc: PipelineCloud }> {
  pc = await startPipelineCloud(fleetOf('ow', [{ name: 'web', count: INSTANCES }]), { delays: { outputObject: { kind: 'fixed', ms: 1500 } }, functionEnv });
  // Warm instances, so an event is served as it arrives: a cold start longer than the delay would hide it.
  const fc = pc.cloud.fc!;
  await Promise.all(Array.from({ length: LOCAL_INSTANCES_PER_FUNCTION }, () => fc.invoke('fleetrun-task-events', [])));
  const manifest = await pc.run({ command: { name: 'late-output', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 30 }, targets: { tags: { env: 'ow' } }, requestedBy: { kind: 'cli' } }, { outputBucket: true });
  expect(manifest.output.mode).toBe('oss');
  const summary = await summaryOf(pc.store, manifest.runId, 45_000);
  expect(summary.counts.total).toBe(INSTANCES);
  expect(summary.counts.byStatus).toEqual({ Success: INSTANCES });
  expectEachExecutedOnce(pc.cloud.ecs);
  return { outputs: Object.fromEntries(summary.instances.map((i) => [i.instanceId, i.outputTail])), reads: reads(pc), pc };
}

/** i-ow000003 ran as web-03. */
const expectedOutputs = Object.fromEntries(Array.from({ length: INSTANCES }, (_, n) => [`i-ow${String(n).padStart(6, '0')}`, `delivered late by web-${String(n).padStart(2, '0')}\n`]));

describe('output objects later than their events', () => {
  it('are waited for within the bound: no ECS read, every output its own', async () => {
    const run = await runWithLateOutputs({});
    expect(run.reads).toBe(0);
    expect(run.outputs).toEqual(expectedOutputs);
  }, 60_000);

  it('past the bound are read from ECS instead, and still every output its own', async () => {
    const run = await runWithLateOutputs({ FLEETRUN_OUTPUT_WAIT_MS: '300' });
    expect(run.reads).toBeGreaterThan(0);
    expect(run.outputs).toEqual(expectedOutputs);
  }, 60_000);
});
