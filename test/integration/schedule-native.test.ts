/**
 * Native-mode jobs against the real local services: state in the local OSS, Period invocations on
 * the local Cloud Assistant through the real ECS SDK. The emulator's time scale makes rate(1m) run
 * every 200 ms, so a Period invocation is seen running more than once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { createEcsClient, type EcsClient, type EcsSdk } from '../../shared/cloud-assistant/ecs-sdk.ts';
import { resolveTargets } from '../../shared/cloud-assistant/targets.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseJobsFile, type Job } from '../../shared/schedule/jobs-file.ts';
import { nativeKeys, readNativeState, syncNativeJobs, type NativeSyncDeps, type NativeSyncReport } from '../../shared/schedule/native.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { generatedFleet, parseFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from '../../local/ecs/server.ts';
import { AK, BUCKET, REGION as OSS_REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const REGION = 'cn-hangzhou';
const ECS_KEY = { accessKeyId: 'schedule-native-key', accessKeySecret: 'schedule-native-secret' };
const FLEET = `
instances:
  - { id: i-native0000000000001, name: web-1, tags: { env: native, role: web } }
  - { id: i-native0000000000002, name: web-2, tags: { env: native, role: web } }
  - { id: i-native0000000000003, name: db-1, tags: { env: native, role: db } }
`;
const FINAL_STOPPED = ['Cancelled', 'Terminated'];
const WRITES = ['CreateCommand', 'InvokeCommand', 'RunCommand', 'StopInvocation', 'DeleteCommand'] as const;

let oss: TestOss;
let store: AliOssStore;
const logLines: string[] = [];
const logger = createLogger({ sink: (l) => logLines.push(l) });

// A fresh bucket per test: one test's job state must never meet another's.
beforeEach(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: OSS_REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});

interface Ecs {
  emulator: EcsEmulator;
  assistant: EcsCloudAssistant;
  /** The raw SDK, for what the port does not return (an invocation's Frequency). */
  client: EcsClient;
  sdk: EcsSdk;
}
let ecs: Ecs | undefined;
afterEach(async () => {
  await ecs?.emulator.close();
  ecs = undefined;
  await oss?.close();
});

async function startEcs(options: Partial<EcsEmulatorOptions> = {}): Promise<Ecs> {
  const emulator = await startEcsEmulator({ fleet: parseFleet(FLEET, 'test fleet'), accessKeys: { [ECS_KEY.accessKeyId]: ECS_KEY.accessKeySecret }, regionId: REGION, ...options });
  const config = { regionId: REGION, credentials: ECS_KEY, endpoint: emulator.endpoint, protocol: 'http' as const };
  // Quick retries: the lost-answer test retries every write.
  const assistant = await EcsCloudAssistant.create({ ...config, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const { client, sdk } = await createEcsClient(config);
  ecs = { emulator, assistant, client, sdk };
  return ecs;
}

function jobs(yaml: string): Job[] {
  return parseJobsFile(yaml, 'jobs.yaml');
}

function deps(e: Ecs, jobList: Job[]): NativeSyncDeps {
  return {
    jobs: jobList,
    assistant: e.assistant,
    store,
    regionId: REGION,
    buildCommand: (job) => ({
      name: `fleetrun-job-${job.name}`,
      script: 'echo "beat from {{who}}"',
      type: 'RunShellScript',
      timeoutSeconds: job.timeout ?? 30,
      parameters: job.with,
    }),
    resolveTargets: async (targets) => (await resolveTargets(e.assistant, targets)).runnable,
    logger,
  };
}

function writes(e: Ecs): Record<string, number> {
  return Object.fromEntries(WRITES.map((a) => [a, e.emulator.calls[a] ?? 0]));
}

async function describeInvocation(e: Ecs, invokeId: string): Promise<any> {
  const res = await e.client.describeInvocations(new e.sdk.DescribeInvocationsRequest({ regionId: REGION, invokeId, contentEncoding: 'PlainText' }));
  return res.body?.invocations?.invocation?.[0];
}

/** The Period invocations not yet stopped or finished, as DescribeInvocations lists them. */
async function livePeriodInvocations(e: Ecs): Promise<string[]> {
  const page = await e.assistant.describeInvocations({ RegionId: REGION, RepeatMode: 'Period', MaxResults: 50 });
  return page.items.filter((i) => !['Stopped', 'Stopping', 'Success', 'Failed', 'PartialFailed', 'Cancelled'].includes(i.status)).map((i) => i.invokeId);
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until every per-instance record of the invocation is final, then checks they all ended stopped. */
async function expectStopped(e: Ecs, invokeId: string): Promise<void> {
  await waitUntil(() => [...e.emulator.service.invocations.get(invokeId)!.instances.values()].every((r) => r.finished), `${invokeId} is final`);
  const inv = await describeInvocation(e, invokeId);
  const statuses: string[] = inv.invokeInstances.invokeInstance.map((r: any) => r.invocationStatus);
  expect(statuses.length).toBeGreaterThan(0);
  for (const s of statuses) expect(FINAL_STOPPED).toContain(s);
}

const only = (report: NativeSyncReport) => {
  expect(report.outcomes).toHaveLength(1);
  return report.outcomes[0]!;
};

const HEARTBEAT = (frequency: string, extra = '') =>
  `jobs:\n  - { name: heartbeat, command: heartbeat, with: { who: fleet }, targets: { tags: { env: native } }, frequency: '${frequency}', timeout: 30, mode: native${extra} }\n`;

describe('syncNativeJobs on the local OSS and Cloud Assistant', () => {
  it('keeps one Period invocation in step with the file: create, no-op, replace, stop, re-create', async () => {
    const e = await startEcs({ timeScale: 300 });

    // Two syncs at once create one Period invocation.
    const [first, second] = await Promise.all([syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(1m)')))), syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(1m)'))))]);
    expect([only(first).action, only(second).action]).toEqual(['created', 'created']);
    expect(only(second).invokeIds).toEqual(only(first).invokeIds);
    const [v1] = only(first).invokeIds as [string];
    expect(await livePeriodInvocations(e)).toEqual([v1]);
    expect(e.emulator.service.commands.size).toBe(1);
    const inv = await describeInvocation(e, v1);
    expect(inv).toMatchObject({ repeatMode: 'Period', frequency: 'rate(1m)', commandName: 'fleetrun-job-heartbeat' });
    expect(inv.invokeInstances.invokeInstance.map((r: any) => r.instanceId).sort()).toEqual(['i-native0000000000001', 'i-native0000000000002', 'i-native0000000000003']);
    const state = await readNativeState(store, 'heartbeat');
    expect(state).toMatchObject({ job: 'heartbeat', generation: 1, invokeIds: [v1], frequency: 'rate(1m)', retiring: [] });

    // It really runs on its schedule, more than once per instance, with its parameter.
    await waitUntil(() => e.emulator.agents.executionLog.filter((x) => x.invokeId === v1 && x.instanceId === 'i-native0000000000001').length >= 2, 'two runs on web-1');
    let finished: { status: string; output: string }[] = [];
    await waitUntil(async () => {
      const history = await e.assistant.describeInvocationResults({ RegionId: REGION, InvokeId: v1, InstanceId: 'i-native0000000000001', IncludeHistory: true, ContentEncoding: 'PlainText' });
      finished = history.items.filter((r) => r.status === 'Success');
      return finished.length >= 2;
    }, 'two finished runs on web-1');
    for (const run of finished) expect(run.output).toBe('beat from fleet\n');

    // Nothing changed: no API write at all.
    const before = writes(e);
    expect(only(await syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(1m)')))))).toMatchObject({ action: 'unchanged', invokeIds: [v1] });
    expect(writes(e)).toEqual(before);

    // A new frequency replaces the invocation; the command is reused, the old invocation stopped.
    const replaced = only(await syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(2m)')))));
    expect(replaced.action).toBe('replaced');
    expect(replaced.stoppedInvokeIds).toEqual([v1]);
    const [v2] = replaced.invokeIds as [string];
    expect(v2).not.toBe(v1);
    expect(await describeInvocation(e, v2)).toMatchObject({ repeatMode: 'Period', frequency: 'rate(2m)' });
    await expectStopped(e, v1);
    expect(await livePeriodInvocations(e)).toEqual([v2]);
    expect(e.emulator.calls.CreateCommand).toBe(before.CreateCommand);

    // Disabled: stopped.
    const disabled = only(await syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(2m)', ', enabled: false')))));
    expect(disabled).toMatchObject({ job: 'heartbeat', action: 'stopped', stoppedInvokeIds: [v2] });
    await expectStopped(e, v2);
    expect(await livePeriodInvocations(e)).toEqual([]);
    expect(await readNativeState(store, 'heartbeat')).toMatchObject({ fingerprint: null, invokeIds: [], retiring: [] });
    // A stopped job left stopped makes no call again.
    const idle = writes(e);
    expect((await syncNativeJobs(deps(e, jobs('jobs: []\n')))).outcomes).toEqual([]);
    expect(writes(e)).toEqual(idle);

    // Back to the first file (A → B → off → A): a fresh invocation, not Cloud Assistant's memory of the stopped first one.
    const back = only(await syncNativeJobs(deps(e, jobs(HEARTBEAT('rate(1m)')))));
    expect(back.action).toBe('created');
    const [v3] = back.invokeIds as [string];
    expect([v1, v2]).not.toContain(v3);
    expect(await livePeriodInvocations(e)).toEqual([v3]);

    // Removed from the file: stopped.
    const removed = only(await syncNativeJobs(deps(e, jobs('jobs: []\n'))));
    expect(removed).toMatchObject({ job: 'heartbeat', action: 'stopped', stoppedInvokeIds: [v3] });
    await expectStopped(e, v3);
    expect(await livePeriodInvocations(e)).toEqual([]);
  });

  it('follows a change of targets, and leaves timer-mode jobs to the tick', async () => {
    const e = await startEcs();
    const file = (tags: string) =>
      jobs(
        `jobs:\n  - { name: tagged, command: c, targets: { tags: { ${tags} } }, frequency: '0 0 3 * * ? Asia/Shanghai', mode: native }\n` +
          `  - { name: on-timer, command: c, targets: { tags: { env: native } }, frequency: rate(1h) }\n`,
      );
    const created = only(await syncNativeJobs(deps(e, file('role: web'))));
    expect(created.job).toBe('tagged');
    const [v1] = created.invokeIds as [string];
    expect(await describeInvocation(e, v1)).toMatchObject({ frequency: '0 0 3 * * ? Asia/Shanghai', repeatMode: 'Period' });
    expect((await readNativeState(store, 'tagged'))?.instanceIds).toEqual(['i-native0000000000001', 'i-native0000000000002']);

    const moved = only(await syncNativeJobs(deps(e, file('role: db'))));
    expect(moved).toMatchObject({ action: 'replaced', stoppedInvokeIds: [v1] });
    await expectStopped(e, v1);
    const inv = await describeInvocation(e, moved.invokeIds[0]!);
    expect(inv.invokeInstances.invokeInstance.map((r: any) => r.instanceId)).toEqual(['i-native0000000000003']);
    expect(await readNativeState(store, 'on-timer')).toBeUndefined();
    expect(e.emulator.calls.RunCommand ?? 0).toBe(0);
    await syncNativeJobs(deps(e, jobs('jobs: []\n')));
  });

  it('splits more than 50 targets into Period invocations of at most 50 each', async () => {
    const e = await startEcs({ fleet: generatedFleet(120, { env: 'wide' }), synthetic: () => ({ durationMs: 1, exitCode: 0, output: 'ok\n' }) });
    const outcome = only(
      await syncNativeJobs(deps(e, jobs(`jobs:\n  - { name: wide, command: c, with: { who: all }, targets: { tags: { env: wide } }, frequency: rate(1h), mode: native }\n`))),
    );
    expect(outcome.action).toBe('created');
    expect(outcome.invokeIds).toHaveLength(3);
    const sizes = outcome.invokeIds.map((id) => e.emulator.service.invocations.get(id)!.instances.size);
    expect(sizes).toEqual([50, 50, 20]);
    expect(e.emulator.service.commands.size).toBe(1);
    // A second sync sees the same 120 instances and does nothing.
    const before = writes(e);
    expect(only(await syncNativeJobs(deps(e, jobs(`jobs:\n  - { name: wide, command: c, with: { who: all }, targets: { tags: { env: wide } }, frequency: rate(1h), mode: native }\n`)))).action).toBe('unchanged');
    expect(writes(e)).toEqual(before);
    const stopped = only(await syncNativeJobs(deps(e, jobs('jobs: []\n'))));
    expect(stopped.stoppedInvokeIds.sort()).toEqual([...outcome.invokeIds].sort());
  });

  it('survives lost answers: a retried InvokeCommand makes no second invocation, a stop whose answers were lost is redone next sync', async () => {
    const e = await startEcs();
    const file = (withFlaky: boolean) =>
      jobs(
        'jobs:\n' +
          `  - { name: keeper, command: c, targets: { tags: { env: native } }, frequency: rate(1h), mode: native }\n` +
          (withFlaky ? `  - { name: flaky, command: c, targets: { tags: { role: db } }, frequency: rate(2h), mode: native }\n` : '') +
          `  - { name: uncatalogued, command: missing, targets: { tags: { env: native } }, frequency: rate(1h), mode: native }\n`,
      );
    const withCatalog = (d: NativeSyncDeps): NativeSyncDeps => ({
      ...d,
      // The catalog has no command "missing": that job fails, the others go on.
      buildCommand: (job) => {
        if (job.command === 'missing') throw new Error('no command "missing" in the catalog');
        return d.buildCommand(job);
      },
    });

    // Every write is applied and its answer lost; the client retries with the same ClientToken.
    e.emulator.faults.configure({ errorAfterApplyRate: 1 });
    const created = await syncNativeJobs(withCatalog(deps(e, file(true))));
    expect(created.outcomes.map((o) => [o.job, o.action])).toEqual([
      ['keeper', 'created'],
      ['flaky', 'created'],
      ['uncatalogued', 'failed'],
    ]);
    expect(created.outcomes[2]!.error).toContain('no command "missing" in the catalog');
    expect(e.emulator.calls.InvokeCommand).toBe(4);
    expect(e.emulator.service.invocations.size).toBe(2);
    expect(e.emulator.service.commands.size).toBe(2);
    const flakyV1 = created.outcomes[1]!.invokeIds[0]!;

    // flaky is removed while StopInvocation's answers are still lost: it is applied, but not known to be.
    const during = await syncNativeJobs(withCatalog(deps(e, file(false))));
    expect(during.outcomes.find((o) => o.job === 'flaky')).toMatchObject({ action: 'stopped', stoppedInvokeIds: [] });
    expect((await readNativeState(store, 'flaky'))?.retiring).toEqual([flakyV1]);
    expect(logLines.some((l) => l.includes('StopInvocation failed; retried on the next sync') && l.includes(flakyV1))).toBe(true);

    // Answers arrive again: the next sync stops it for sure, and then forgets it.
    e.emulator.faults.configure({ errorAfterApplyRate: 0 });
    const after = await syncNativeJobs(withCatalog(deps(e, file(false))));
    expect(after.outcomes.find((o) => o.job === 'flaky')).toMatchObject({ action: 'stopped', stoppedInvokeIds: [flakyV1] });
    expect(after.outcomes.find((o) => o.job === 'keeper')?.action).toBe('unchanged');
    await expectStopped(e, flakyV1);
    expect((await readNativeState(store, 'flaky'))?.retiring).toEqual([]);
    expect(await store.get(nativeKeys.state('flaky'))).toBeDefined();
    const quiet = writes(e);
    expect((await syncNativeJobs(withCatalog(deps(e, file(false))))).outcomes.filter((o) => o.job === 'flaky')).toEqual([]);
    expect(writes(e)).toEqual(quiet);

    await syncNativeJobs(deps(e, jobs('jobs: []\n')));
    expect(await livePeriodInvocations(e)).toEqual([]);
  });
});
