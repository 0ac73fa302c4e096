/**
 * `ecs:CloudAssistant:TaskCompleted` events (reference §1.3–1.4) and fault injection (throttling,
 * 5xx before and after a write was applied, a rate limit), seen through the real SDK.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IDS, Models, REGION, sdkError, startTestCloud, type TestCloud, type TestCloudOptions } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud | undefined;
let sandboxRoot: string | undefined;
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
  if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
  sandboxRoot = undefined;
  vi.restoreAllMocks();
});

async function start(options: TestCloudOptions = {}): Promise<TestCloud> {
  cloud = await startTestCloud(options);
  return cloud;
}

const runReq = (o: Record<string, unknown>) =>
  new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1], ...o });

describe('TaskCompleted events', () => {
  it('one event per instance with the EventBridge envelope and camelCase data, exitCode a string, no output', async () => {
    const c = await start();
    const res = await c.client.runCommand(
      runReq({ name: 'event-check', commandContent: '[ "$HOSTNAME" = web-2 ] && exit 3; echo fine', instanceId: [IDS.web1, IDS.web2, IDS.offline] }),
    );
    const { invokeId, commandId } = res.body;
    const events = await c.waitForFinal(invokeId);
    expect(events).toHaveLength(3);

    const byId = Object.fromEntries(events.map((e) => [e.data.instanceId, e]));
    expect(byId[IDS.web1]!.data).toMatchObject({ invocationStatus: 'Success', exitCode: '0', errorCode: '' });
    expect(byId[IDS.web2]!.data).toMatchObject({ invocationStatus: 'Failed', exitCode: '3', errorCode: 'ExitCodeNonzero' });
    expect(byId[IDS.offline]!.data).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'ClientNotRunning' });

    const results = await c.client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId }));
    const finished = Object.fromEntries(results.body.invocation.invocationResults.invocationResult.map((r: any) => [r.instanceId, r]));

    for (const e of events) {
      // Envelope (reference §1.3).
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.source).toBe('acs.ecs');
      expect(e.specversion).toBe('1.0');
      expect(e.type).toBe('ecs:CloudAssistant:TaskCompleted');
      expect(typeof e.subject).toBe('string');
      expect(e.subject.startsWith('acs.ecs:')).toBe(true);
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(e.aliyunaccountid).toBe('1234567890123456');
      expect(e.aliyunpublishtime).toMatch(/Z$/);
      expect(e.aliyuneventbusname).toBe('default');
      expect(e.aliyunregionid).toBe(REGION);
      expect(typeof e.aliyunpublishaddr).toBe('string');
      // Data (reference §1.4): camelCase, exitCode a string, never the output.
      const data = e.data as unknown as Record<string, unknown>;
      for (const key of Object.keys(data)) expect(key).toMatch(/^[a-z][A-Za-z]*$/);
      expect(data).not.toHaveProperty('output');
      expect(data).not.toHaveProperty('Output');
      expect(typeof data.exitCode).toBe('string');
      expect(data).toMatchObject({ commandId, commandName: 'event-check', invokeId, repeatMode: 'Once', regionId: REGION });
      expect(e.data.finishTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(e.data.finishTime).toBe(finished[e.data.instanceId].finishedTime);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);

    // Nothing further arrives for this invocation, and the hub's record agrees with what was delivered.
    const next = await c.client.runCommand(runReq({ commandContent: 'true' }));
    await c.waitForFinal(next.body.invokeId);
    expect(c.events.filter((e) => e.data.invokeId === invokeId)).toHaveLength(3);
    expect(c.emulator.events.emitted.filter((e) => e.data.invokeId === invokeId)).toHaveLength(3);
  });

  it('documentedEventFieldsOnly emits exactly the six documented data fields', async () => {
    const c = await start({ documentedEventFieldsOnly: true });
    await c.client.runCommand(runReq({ name: 'doc-only' }));
    const [e] = await c.waitForEvents(() => true, 1);
    expect(Object.keys(e!.data).sort()).toEqual(['commandId', 'commandName', 'exitCode', 'finishTime', 'instanceId', 'invocationStatus']);
    expect(e!.data).toMatchObject({ commandName: 'doc-only', exitCode: '0', instanceId: IDS.web1, invocationStatus: 'Success' });
  });

  it('a failing subscriber does not keep the others from their events', async () => {
    const c = await start();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    c.emulator.events.subscribe(() => {
      throw new Error('subscriber on fire');
    });
    const { events } = await c.run({ commandContent: 'true' });
    expect(events).toHaveLength(1);
    await c.waitUntil(() => errors.mock.calls.length > 0, 'the failure was logged', 2_000);
    expect(String(errors.mock.calls[0]![0])).toContain('subscriber on fire');
  });

  it('with eventPerPeriodicRun off, a periodic task reports only its final status', async () => {
    const c = await start({ eventPerPeriodicRun: false });
    const res = await c.client.runCommand(runReq({ commandContent: 'echo boot', repeatMode: 'EveryReboot' }));
    const invokeId = res.body.invokeId;
    const record = () => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!;
    await c.waitUntil(() => record().current.status === 'Scheduled', 'delivered');
    for (let i = 1; i <= 2; i++) {
      expect(c.emulator.reboot(IDS.web1)).toBe(1);
      await c.waitUntil(() => record().repeats === i && record().current.status === 'Scheduled', `run ${i} done`);
    }
    expect(c.events).toEqual([]);
    await c.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId }));
    const events = await c.waitForFinal(invokeId);
    expect(events.map((e) => e.data.invocationStatus)).toEqual(['Cancelled']);
  });
});

describe('fault injection', () => {
  it('throttleRate: 1 → ThrottlingError Throttling.User with retryAfter from x-acs-retry-after; nothing runs', async () => {
    const c = await start({ faults: { throttleRate: 1, retryAfterMs: 250 } });
    const err = await sdkError(c.client.runCommand(runReq({})));
    expect(err.name).toBe('ThrottlingError');
    expect(err.code).toBe('Throttling.User');
    expect(err.statusCode).toBe(400);
    expect(err.retryAfter).toBe(250);
    expect(err.data).toMatchObject({ Code: 'Throttling.User', HostId: `ecs.${REGION}.aliyuncs.com` });
    expect(c.emulator.service.invocations.size).toBe(0);

    const read = await sdkError(c.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION })));
    expect(read.code).toBe('Throttling.User');
  });

  it('errorRate: 1 → 503 ServiceUnavailable (ServerError) and nothing is applied', async () => {
    const c = await start({ faults: { errorRate: 1 } });
    const err = await sdkError(c.client.runCommand(runReq({})));
    expect(err.name).toBe('ServerError');
    expect(err.code).toBe('ServiceUnavailable');
    expect(err.statusCode).toBe(503);
    expect(err.data.RequestId).toBeTruthy();
    expect(c.emulator.service.invocations.size).toBe(0);
    expect(c.emulator.agents.executionLog).toEqual([]);
  });

  it('errorAfterApplyRate: 1 → the first RunCommand errors after applying; a retry with the same ClientToken returns the InvokeId and the script ran once', async () => {
    sandboxRoot = await mkdtemp(path.join(tmpdir(), 'fleetrun-faults-test-'));
    const c = await start({ faults: { errorAfterApplyRate: 1 }, sandboxRoot });
    await mkdir(path.join(sandboxRoot, IDS.web1, 'tally'), { recursive: true });
    const request = runReq({ commandContent: 'echo ran >> runs.txt', workingDir: '/tally', clientToken: 'retry-token-0001' });

    const first = await sdkError(c.client.runCommand(request));
    expect(first.code).toBe('ServiceUnavailable');
    expect(first.statusCode).toBe(503);
    // The write was applied although the caller saw an error.
    expect(c.emulator.service.invocations.size).toBe(1);
    const [applied] = c.emulator.service.invocations.keys();

    const retry = await c.client.runCommand(request);
    expect(retry.body.invokeId).toBe(applied);
    await c.waitForFinal(retry.body.invokeId);
    expect(c.emulator.agents.executionLog.filter((e) => e.invokeId === applied)).toHaveLength(1);
    expect(c.emulator.agents.executionLog).toHaveLength(1);
    expect(await readFile(path.join(sandboxRoot, IDS.web1, 'tally', 'runs.txt'), 'utf8')).toBe('ran\n');

    // Reads are never failed after applying.
    const read = await c.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId: applied }));
    expect(read.body.invocations.invocation[0].invocationStatus).toBe('Success');

    // Without a ClientToken a retry is a second, separate run.
    const noToken = runReq({ commandContent: 'echo ran >> runs.txt', workingDir: '/tally' });
    expect((await sdkError(c.client.runCommand(noToken))).code).toBe('ServiceUnavailable');
    expect(c.emulator.service.invocations.size).toBe(2);
    expect(c.emulator.faults.counts.errorsAfterApply).toBe(2);
  });

  it('rateLimitPerSecond throttles a burst beyond one second of calls', async () => {
    const c = await start({ faults: { rateLimitPerSecond: 5 } });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        c.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION })).then(
          () => 'ok',
          (e: any) => e.code as string,
        ),
      ),
    );
    const ok = outcomes.filter((o) => o === 'ok').length;
    const throttled = outcomes.filter((o) => o === 'Throttling.User').length;
    expect(ok + throttled).toBe(20);
    expect(ok).toBeGreaterThanOrEqual(5);
    // The bucket holds one second's worth (5) and refills at 5/s while the burst is served.
    expect(ok).toBeLessThanOrEqual(9);
    expect(c.emulator.faults.counts.rateLimited).toBe(throttled);
  });

  it('faults can be changed while running: configure() turns throttling off again', async () => {
    const c = await start({ faults: { throttleRate: 1 } });
    expect((await sdkError(c.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION })))).code).toBe('Throttling.User');
    c.emulator.faults.configure({ throttleRate: 0 });
    const res = await c.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION }));
    expect(res.body.totalCount).toBe(5);
  });
});
