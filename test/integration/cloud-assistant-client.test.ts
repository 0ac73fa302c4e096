/**
 * The CloudAssistant port on the official ECS SDK, driven against the local Cloud Assistant over
 * loopback: validation before any call, fan-out in calls of ≤100, retries that never run twice,
 * target resolution and rate control.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant, type RetryPolicy } from '../../shared/cloud-assistant/index.ts';
import { dispatch } from '../../shared/cloud-assistant/dispatch.ts';
import { allInvocationResults } from '../../shared/cloud-assistant/results.ts';
import { resolveTargets } from '../../shared/cloud-assistant/targets.ts';
import { isFinal } from '../../shared/cloud-assistant/statuses.ts';
import { generatedFleet, parseFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';

const REGION = 'cn-hangzhou';
const KEYS = { AK: 'SK-secret' };

const demoFleet = parseFleet(`
instances:
  - { id: i-demo000001, name: web-1, tags: { env: demo, role: web } }
  - { id: i-demo000002, name: web-2, tags: { env: demo, role: web } }
  - { id: i-demo000003, name: db-1, tags: { env: demo, role: db } }
  - { id: i-demo000004, name: old-1, status: Stopped, tags: { env: demo } }
  - { id: i-demo000005, name: lost-1, tags: { env: demo }, agent: { online: false } }
`);

function fastRetry(over: Partial<RetryPolicy> = {}): Partial<RetryPolicy> {
  return { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 8, ...over };
}

async function client(emulator: EcsEmulator, over: Partial<RetryPolicy> = {}, signatureAlgorithm?: 'v2') {
  return EcsCloudAssistant.create({
    regionId: REGION,
    endpoint: emulator.endpoint,
    protocol: 'http',
    credentials: { accessKeyId: 'AK', accessKeySecret: 'SK-secret' },
    retry: fastRetry(over),
    ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
  });
}

/** Resolves when every instance of `invokeId` has a final TaskCompleted event. */
function finalEvents(emulator: EcsEmulator, count: number, invokeIds?: Set<string>): Promise<string[]> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const off = emulator.events.subscribe((e) => {
      if (invokeIds && !invokeIds.has(e.data.invokeId ?? '')) return;
      seen.push(e.data.instanceId);
      if (seen.length === count) {
        off();
        resolve(seen);
      }
    });
  });
}

describe('EcsCloudAssistant against the local Cloud Assistant', () => {
  let emulator: EcsEmulator;
  beforeAll(async () => {
    emulator = await startEcsEmulator({ fleet: demoFleet, accessKeys: KEYS });
  });
  afterAll(async () => emulator.close());
  afterEach(() => emulator.faults.configure({ throttleRate: 0, errorRate: 0, errorAfterApplyRate: 0, resetRate: 0, rateLimitPerSecond: 0 }));

  it('runs a script and reads typed results, under both signature versions', async () => {
    for (const algorithm of [undefined, 'v2'] as const) {
      const ca = await client(emulator, {}, algorithm);
      const done = finalEvents(emulator, 2);
      const { invokeId, commandId } = await ca.runCommand({
        RegionId: REGION,
        Type: 'RunShellScript',
        CommandContent: 'echo "hello {{who}} from {{ACS::InstanceId}}"; exit 0',
        EnableParameter: true,
        Parameters: { who: 'world' },
        InstanceId: ['i-demo000001', 'i-demo000002'],
      });
      expect(invokeId).toMatch(/^t-/);
      expect(commandId).toMatch(/^c-/);
      await done;
      const results = await allInvocationResults(ca, REGION, invokeId);
      expect(results.map((r) => [r.instanceId, r.status, r.exitCode, r.output]).sort()).toEqual([
        ['i-demo000001', 'Success', 0, 'hello world from i-demo000001\n'],
        ['i-demo000002', 'Success', 0, 'hello world from i-demo000002\n'],
      ]);
      const page = await ca.describeInvocations({ RegionId: REGION, InvokeId: invokeId, IncludeOutput: true });
      expect(page.items[0]?.status).toBe('Success');
      expect(page.items[0]?.serviceStatus).toBe('Success');
    }
  });

  it('refuses a bad request before any call, with the API error code', async () => {
    const ca = await client(emulator);
    const before = emulator.faults.counts.calls;
    await expect(
      ca.runCommand({ RegionId: REGION, Type: 'RunShellScript', CommandContent: 'true', InstanceId: Array.from({ length: 101 }, (_, i) => `i-x${i}`) }),
    ).rejects.toMatchObject({ code: 'InstanceIds.ExceedLimit', httpStatus: 403 });
    await expect(
      ca.runCommand({ RegionId: REGION, Type: 'RunShellScript', CommandContent: 'true', InstanceId: ['i-demo000001'], Parameters: { a: '1' } }),
    ).rejects.toMatchObject({ code: 'Parameter.Disabled' });
    expect(emulator.faults.counts.calls).toBe(before);
  });

  it('derives the overall status from per-instance statuses', async () => {
    const ca = await client(emulator);
    const done = finalEvents(emulator, 2);
    const { invokeId } = await ca.runCommand({
      RegionId: REGION,
      Type: 'RunShellScript',
      CommandContent: 'if [ "{{ACS::InstanceName}}" = web-1 ]; then exit 3; fi; echo ok',
      EnableParameter: true,
      InstanceId: ['i-demo000001', 'i-demo000002'],
    });
    await done;
    const page = await ca.describeInvocations({ RegionId: REGION, InvokeId: invokeId });
    const info = page.items[0]!;
    expect(info.status).toBe('PartialFailed');
    expect(info.serviceStatus).toBe('PartialFailed');
    const failed = info.instances.find((i) => i.instanceId === 'i-demo000001')!;
    expect([failed.status, failed.exitCode, failed.errorCode]).toEqual(['Failed', 3, 'ExitCodeNonzero']);
  });

  it('retries throttling and lost responses with one ClientToken, so nothing runs twice', async () => {
    const retries: number[] = [];
    const ca = await client(emulator, { maxAttempts: 12, onRetry: ({ delayMs }) => void retries.push(delayMs) });
    // Three calls in ten are throttled, and three in ten are applied and then answered 503 (a lost response).
    emulator.faults.configure({ throttleRate: 0.3, errorAfterApplyRate: 0.3, seed: 7, retryAfterMs: 20 });
    const invokeIds = new Set<string>();
    for (let n = 0; n < 6; n++) {
      const { invokeId } = await ca.runCommand({ RegionId: REGION, Type: 'RunShellScript', CommandContent: `echo run-${n}`, InstanceId: ['i-demo000003'] });
      invokeIds.add(invokeId);
    }
    emulator.faults.configure({ throttleRate: 0, errorAfterApplyRate: 0 });
    expect(retries.length).toBeGreaterThan(0);
    expect(emulator.faults.counts.errorsAfterApply).toBeGreaterThan(0);
    expect(invokeIds.size).toBe(6);
    await new Promise((r) => setTimeout(r, 300));
    const runs = emulator.agents.executionLog.filter((e) => invokeIds.has(e.invokeId));
    expect(runs).toHaveLength(6);
    const created = [...emulator.service.invocations.values()].filter((i) => i.command.script.startsWith('echo run-'));
    expect(created).toHaveLength(6);
  });

  it('sends a call again when its connection was closed without an answer (an idle keep-alive connection closed as it was reused): reads and writes, each run once', async () => {
    const retried: string[] = [];
    const ca = await client(emulator, {
      onRetry: ({ action, code }) => {
        retried.push(`${action} ${code}`);
        // One reset per call: the server closed one idle connection.
        emulator.faults.configure({ resetRate: 0 });
      },
    });
    const resetsBefore = emulator.faults.counts.resets;
    emulator.faults.configure({ resetRate: 1 });
    const { invokeId } = await ca.runCommand({ RegionId: REGION, Type: 'RunShellScript', CommandContent: 'echo after-a-reset', InstanceId: ['i-demo000002'] });
    emulator.faults.configure({ resetRate: 1 });
    const page = await ca.describeInvocations({ RegionId: REGION, InvokeId: invokeId });
    expect(emulator.faults.counts.resets - resetsBefore).toBe(2);
    expect(retried).toEqual(['RunCommand ECONNRESET', 'DescribeInvocations ECONNRESET']);
    expect(page.items.map((i) => i.invokeId)).toEqual([invokeId]);
    expect([...emulator.service.invocations.values()].filter((i) => i.command.script === 'echo after-a-reset')).toHaveLength(1);
  });

  it('does not retry a service that cannot be reached at all', async () => {
    const retried: string[] = [];
    const ca = await EcsCloudAssistant.create({ regionId: REGION, endpoint: '127.0.0.1:1', protocol: 'http', credentials: { accessKeyId: 'AK', accessKeySecret: 'SK-secret' }, retry: fastRetry({ onRetry: ({ code }) => void retried.push(code) }) });
    await expect(ca.describeInvocations({ RegionId: REGION })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(retried).toEqual([]);
  });

  it('honours the retry-after hint and gives up after maxAttempts', async () => {
    const waits: number[] = [];
    const ca = await client(emulator, { maxAttempts: 3, onRetry: ({ delayMs }) => void waits.push(delayMs) });
    emulator.faults.configure({ throttleRate: 1, retryAfterMs: 40 });
    await expect(ca.describeInvocations({ RegionId: REGION })).rejects.toMatchObject({ code: 'Throttling.User' });
    expect(waits).toHaveLength(2);
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(40);
  });

  it('does not retry an error that is not transient', async () => {
    const ca = await client(emulator);
    const before = emulator.faults.counts.calls;
    await expect(ca.runCommand({ RegionId: REGION, Type: 'RunShellScript', CommandContent: 'true', InstanceId: ['i-nosuch0001'] })).rejects.toMatchObject({
      code: 'InvalidInstance.NotFound',
      httpStatus: 404,
    });
    expect(emulator.faults.counts.calls - before).toBe(1);
  });

  it('resolves tags into runnable instances and sets aside stopped ones and offline agents, naming every instance found', async () => {
    const ca = await client(emulator);
    const resolved = await resolveTargets(ca, { tags: { env: 'demo' } });
    expect(resolved.runnable.sort()).toEqual(['i-demo000001', 'i-demo000002', 'i-demo000003']);
    expect(resolved.skipped.sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual([
      { instanceId: 'i-demo000004', reason: 'InstanceNotRunning' },
      { instanceId: 'i-demo000005', reason: 'ClientNotRunning' },
    ]);
    expect(resolved.names).toEqual({ 'i-demo000001': 'web-1', 'i-demo000002': 'web-2', 'i-demo000003': 'db-1', 'i-demo000004': 'old-1', 'i-demo000005': 'lost-1' });
    const byId = await resolveTargets(ca, { instanceIds: ['i-demo000001', 'i-gone000001'] });
    expect(byId).toEqual({ runnable: ['i-demo000001'], skipped: [{ instanceId: 'i-gone000001', reason: 'InstanceNotExists' }], names: { 'i-demo000001': 'web-1' } });
  });
});

describe('dispatch: fan-out over a large fleet', () => {
  let emulator: EcsEmulator;
  beforeAll(async () => {
    emulator = await startEcsEmulator({
      fleet: generatedFleet(300),
      accessKeys: KEYS,
      // Synthetic agents: a failing exit code on every tenth instance, no processes spawned.
      synthetic: ({ instanceId }) => ({ durationMs: 30, exitCode: instanceId.endsWith('0') ? 1 : 0, output: `done ${instanceId}` }),
    });
  });
  afterAll(async () => emulator.close());

  it('splits 250 instances into three calls of at most 100 and every instance runs once', async () => {
    const ca = await client(emulator);
    const ids = [...emulator.fleet.keys()].slice(0, 250);
    const done = finalEvents(emulator, 250);
    const result = await dispatch(ca, { runId: 'run-250', command: { kind: 'run', request: { RegionId: REGION, Type: 'RunShellScript', CommandContent: 'true' } }, instanceIds: ids });
    expect(result.batches.map((b) => b.instanceIds.length)).toEqual([100, 100, 50]);
    expect(result.batches.every((b) => b.invokeId && !b.error)).toBe(true);
    expect(result.dispatched.sort()).toEqual([...ids].sort());
    const finished = await done;
    expect(new Set(finished).size).toBe(250);
    const started = emulator.agents.executionLog.filter((e) => result.batches.some((b) => b.invokeId === e.invokeId));
    expect(started).toHaveLength(250);
  });

  it('dispatching the same run again reuses its ClientTokens and starts nothing new', async () => {
    const ca = await client(emulator);
    const ids = [...emulator.fleet.keys()].slice(0, 120);
    const plan = { runId: 'run-again', command: { kind: 'run' as const, request: { RegionId: REGION, Type: 'RunShellScript' as const, CommandContent: 'true' } }, instanceIds: ids };
    const first = await dispatch(ca, plan);
    const second = await dispatch(ca, plan);
    expect(second.batches.map((b) => b.invokeId)).toEqual(first.batches.map((b) => b.invokeId));
    await new Promise((r) => setTimeout(r, 200));
    const invokeIds = new Set(first.batches.map((b) => b.invokeId));
    expect(emulator.agents.executionLog.filter((e) => invokeIds.has(e.invokeId))).toHaveLength(120);
  });

  it('keeps at most maxConcurrency instances running and stops sending after maxErrors', async () => {
    const ca = await client(emulator);
    const ids = [...emulator.fleet.keys()].slice(0, 200);
    let running = 0;
    let peak = 0;
    const offStart = emulator.events.subscribe(() => void running--);
    const completions = {
      subscribe: (listener: (d: { instanceId: string; failed: boolean }) => void) =>
        emulator.events.subscribe((e) => {
          if (isFinal(e.data.invocationStatus as never)) listener({ instanceId: e.data.instanceId, failed: e.data.invocationStatus !== 'Success' });
        }),
    };
    const counting = {
      ...ca,
      runCommand: async (req: Parameters<typeof ca.runCommand>[0]) => {
        running += req.InstanceId?.length ?? 0;
        peak = Math.max(peak, running);
        return ca.runCommand(req);
      },
    } as unknown as typeof ca;
    const result = await dispatch(counting, {
      runId: 'run-rate',
      command: { kind: 'run', request: { RegionId: REGION, Type: 'RunShellScript', CommandContent: 'true' } },
      instanceIds: ids,
      maxConcurrency: 20,
      maxErrors: 3,
      completions,
    });
    offStart();
    expect(peak).toBeLessThanOrEqual(20);
    expect(result.stoppedBy).toBe('max-errors');
    expect(result.notDispatched.length).toBeGreaterThan(0);
    expect(result.dispatched.length + result.notDispatched.length).toBe(200);
    expect(result.batches.every((b) => b.instanceIds.length <= 20)).toBe(true);
  });
});
