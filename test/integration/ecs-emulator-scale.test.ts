/**
 * Scale: a generated fleet of 10,000 instances with synthetic execution (no processes), driven by
 * the real SDK: 100 RunCommand calls of 100 instance ids each, then 10,000 TaskCompleted events.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { Models, REGION, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

const INSTANCES = 10_000;
const PER_CALL = 100;

let cloud: TestCloud;
let sandboxRoot: string;

beforeAll(async () => {
  sandboxRoot = await mkdtemp(path.join(tmpdir(), 'fleetrun-scale-test-'));
  cloud = await startTestCloud({
    sandboxRoot,
    fleet: generatedFleet(INSTANCES),
    // Each synthetic run takes 0–49 ms; one instance in 500 exits 1.
    synthetic: ({ instanceId }) => {
      const n = Number(instanceId.slice(5));
      return { durationMs: n % 50, exitCode: n % 500 === 7 ? 1 : 0, output: `synthetic ${instanceId}\n` };
    },
  });
});
afterAll(async () => {
  await cloud?.close();
  if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
});

it('100 RunCommand calls of 100 ids reach 10,000 instances and emit 10,000 events', async () => {
  const fleet = [...cloud.emulator.fleet.keys()];
  expect(fleet).toHaveLength(INSTANCES);
  const started = performance.now();
  const batches = Array.from({ length: INSTANCES / PER_CALL }, (_, i) => fleet.slice(i * PER_CALL, (i + 1) * PER_CALL));
  const invokeIds: string[] = [];
  // Ten callers at a time, as a fan-out client would.
  for (let i = 0; i < batches.length; i += 10) {
    const responses = await Promise.all(
      batches.slice(i, i + 10).map((ids) =>
        cloud.client.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo synthetic', instanceId: ids })),
      ),
    );
    invokeIds.push(...responses.map((r: any) => r.body.invokeId));
  }
  const callsDone = performance.now();
  const events = await cloud.waitForEvents(() => true, INSTANCES, 45_000);
  const eventsDone = performance.now();

  expect(new Set(invokeIds).size).toBe(100);
  expect(events).toHaveLength(INSTANCES);
  expect(new Set(events.map((e) => e.data.instanceId)).size).toBe(INSTANCES);
  const failed = events.filter((e) => e.data.invocationStatus === 'Failed');
  expect(failed).toHaveLength(INSTANCES / 500);
  expect(failed.every((e) => e.data.exitCode === '1')).toBe(true);
  expect(events.filter((e) => e.data.invocationStatus === 'Success')).toHaveLength(INSTANCES - INSTANCES / 500);
  expect(cloud.emulator.agents.executionLog).toHaveLength(INSTANCES);
  expect(cloud.emulator.agents.executionLog.every((e) => e.synthetic)).toBe(true);

  // The API still answers for one of the big invocations.
  const one = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId: invokeIds[42], includeOutput: true, contentEncoding: 'PlainText' }));
  const inv = one.body.invocations.invocation[0];
  expect(inv.invokeInstances.invokeInstance).toHaveLength(PER_CALL);
  expect(inv.invokeInstances.invokeInstance[0].output).toMatch(/^synthetic i-gen\d{17}\n$/);

  // Synthetic runs spawn nothing, so no instance sandbox is made on disk (20,000 mkdir/stat calls
  // made a loaded 2-core machine take ~10 s here instead of ~0.5 s).
  expect(await readdir(sandboxRoot)).toEqual([]);

  const total = eventsDone - started;
  console.log(
    `[scale] ${INSTANCES} instances: 100 RunCommand calls in ${(callsDone - started).toFixed(0)} ms, ` +
      `all ${INSTANCES} events after ${total.toFixed(0)} ms`,
  );
  expect(total).toBeLessThan(30_000);
});

it('a synthetic run still checks an explicit WorkingDir: a missing one is Invalid / DirectoryNotExists', async () => {
  const [id] = cloud.emulator.fleet.keys();
  const res = await cloud.client.runCommand(
    new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo x', instanceId: [id], workingDir: '/srv/missing' }),
  );
  const [event] = await cloud.waitForFinal(res.body.invokeId);
  expect(event!.data).toMatchObject({ instanceId: id, invocationStatus: 'Invalid', errorCode: 'DirectoryNotExists' });
});
