/**
 * task-events in fetch mode across FC instances, on the local ECS, OSS and MNS: two instances of
 * the function (each its own deps and ResultFetcher) get the events of one run between them; one
 * read serves both, its claimant sends the results of the other's instances, and those are redacted
 * exactly as its own: the secret parameter's value reaches no message and no object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { ResultFetcher } from '../../shared/pipeline/result-fetcher.ts';
import { taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import { resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { handleTaskEvents, type TaskEventsDeps } from '../../shared/pipeline/task-events.ts';
import { MnsResultQueue } from '../../shared/queue/mns-queue.ts';
import { commandNameFor, runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { seal } from '../../shared/runs/seal.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';
import { ACCOUNT_ID, AK as MNS_AK, SK as MNS_SK, startTestBed, type MnsTestBed } from './mns-support.ts';
import { AK, BUCKET, REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const FLEET = generatedFleet(6);
const ids = FLEET.map((i) => i.id);
const SECRET = 'tok-9f2c41d0e7aa';
const SEAL_KEY = 'task-events-fetch-seal-key';
const QUEUE = 'fleetrun-results';
/** Message bodies as task-events sent them (base64), read as a trigger with IsBase64Decode: false hands them over. */
const asSent = resultMessagesEnvelope({ isBase64Decode: false });

let ecs: EcsEmulator;
let assistant: EcsCloudAssistant;
let oss: TestOss;
let mns: MnsTestBed;

beforeAll(async () => {
  ecs = await startEcsEmulator({
    fleet: FLEET,
    accessKeys: { te: 'task-events-secret' },
    // The script printed the secret parameter's value, as a careless one would; the last instance failed.
    synthetic: ({ instanceId }) => ({ durationMs: 5, exitCode: instanceId === ids.at(-1) ? 3 : 0, output: `${instanceId} used token=${SECRET}\nok\n` }),
  });
  assistant = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: ecs.endpoint, protocol: 'http', credentials: { accessKeyId: 'te', accessKeySecret: 'task-events-secret' } });
  oss = await startTestOss();
  mns = await startTestBed({ queues: [{ name: QUEUE }] });
});
afterAll(async () => {
  await ecs?.close();
  await oss?.close();
  await mns?.close();
});

/** One FC instance of task-events: clients and a fetcher of its own. */
function functionInstance(): TaskEventsDeps & { fetcher: ResultFetcher } {
  return {
    store: new AliOssStore({ bucket: BUCKET, region: REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint }),
    queue: new MnsResultQueue({ accountId: ACCOUNT_ID, queueName: QUEUE, credentials: { accessKeyId: MNS_AK, accessKeySecret: MNS_SK }, endpoint: mns.emulator.endpoint }),
    fetcher: new ResultFetcher(async () => assistant, 'cn-hangzhou', new AliOssStore({ bucket: BUCKET, region: REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint }), { gatherMs: 50, intervalMs: 5000, donePollMs: 20 }),
    logger: createLogger({ sink: () => {} }),
    sealKey: SEAL_KEY,
  };
}

async function drain(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    let batch;
    try {
      batch = await mns.client.batchReceiveMessage(QUEUE, 16);
    } catch {
      return bodies; // MessageNotExist: the queue is empty
    }
    bodies.push(...batch.body.map((m) => m.MessageBody!));
    await mns.client.batchDeleteMessage(QUEUE, batch.body.map((m) => m.ReceiptHandle!));
  }
}

describe('task-events in fetch mode, events spread over two function instances', () => {
  it('reads once, sends every result once, and redacts the ones sent for the other instance as its own', async () => {
    const runId = 'r-20261201t000000-tefetch';
    const store = functionInstance().store;
    const manifest = runManifestSchema.parse({
      version: 1, runId, createdAt: new Date().toISOString(), requestedBy: { kind: 'cli' },
      command: { name: 'check', type: 'RunShellScript', timeoutSeconds: 60 },
      targets: ids, output: { mode: 'fetch' }, secretParameters: ['token'], sealedSecrets: seal([SECRET], SEAL_KEY),
    });
    await store.put(runKeys.manifest(runId), JSON.stringify(manifest));
    const emittedBefore = ecs.events.emitted.length;
    const { invokeId } = await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', Name: commandNameFor(runId, 'check', 0), InstanceId: ids });
    while (ecs.events.emitted.length < emittedBefore + ids.length) await new Promise((r) => setTimeout(r, 20));
    const events = ecs.events.emitted.slice(emittedBefore);
    expect(events.every((e) => e.data.invokeId === invokeId)).toBe(true);

    const a = functionInstance();
    const b = functionInstance();
    const readsBefore = (ecs.calls.DescribeInvocations ?? 0) + (ecs.calls.DescribeInvocationResults ?? 0);
    const [ra, rb] = await Promise.all([handleTaskEvents(taskCompletedEnvelope.records(events.slice(0, 2)), a), handleTaskEvents(taskCompletedEnvelope.records(events.slice(2)), b)]);
    expect([...ra.skipped, ...rb.skipped]).toEqual([]);
    expect((ecs.calls.DescribeInvocations ?? 0) + (ecs.calls.DescribeInvocationResults ?? 0) - readsBefore).toBe(1);
    expect(a.fetcher.calls + b.fetcher.calls).toBe(1);
    // Whichever claimed the read sent all six; the other sent nothing.
    expect([ra.sent, rb.sent].sort()).toEqual([0, ids.length]);
    expect(a.fetcher.sentForOthers + b.fetcher.sentForOthers).toBe(ids.length - (ra.sent > 0 ? 2 : ids.length - 2));

    // The read's six results, packed into one message.
    const bodies = await drain();
    expect(bodies).toHaveLength(1);
    const results = asSent.records(bodies.map((body) => ({ data: { messageBody: body } }))).map((decoded) => {
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.record;
    });
    expect(results.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
    for (const r of results) {
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(r).toMatchObject<Partial<InstanceResult>>({ runId, invokeId, output: `${r.instanceId} used token=***\nok\n`, source: 'event' });
    }
    const failed = results.find((r) => r.instanceId === ids.at(-1))!;
    expect([failed.status, failed.exitCode]).toEqual(['Failed', 3]);
    // Nor is it in any object the read left behind (claims and dones name instances only).
    for await (const o of store.list(runKeys.prefix(runId))) expect((await store.get(o.key))!.toString(), o.key).not.toContain(SECRET);
  });

  it('reads a whole invocation with one call when events carry only documented fields (no InvokeId): the manifest names it', async () => {
    // 60 instances: DescribeInvocationResults by CommandId would take two pages of 50.
    const fleet = generatedFleet(60);
    const wide = await startEcsEmulator({ fleet, accessKeys: { te: 'task-events-secret' }, documentedEventFieldsOnly: true, synthetic: ({ instanceId }) => ({ durationMs: 5, exitCode: 0, output: `${instanceId} ok\n` }) });
    try {
      const wideAssistant = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: wide.endpoint, protocol: 'http', credentials: { accessKeyId: 'te', accessKeySecret: 'task-events-secret' } });
      const wideIds = fleet.map((i) => i.id);
      const runId = 'r-20261201t000000-tewide1';
      const store = functionInstance().store;
      const base = { version: 1, runId, createdAt: new Date().toISOString(), requestedBy: { kind: 'cli' }, command: { name: 'check', type: 'RunShellScript', timeoutSeconds: 60 }, targets: wideIds, output: { mode: 'fetch' } };
      await store.put(runKeys.manifest(runId), JSON.stringify(runManifestSchema.parse(base)));
      const { invokeId, commandId } = await wideAssistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', Name: commandNameFor(runId, 'check', 0), InstanceId: wideIds });
      while (wide.events.emitted.length < wideIds.length) await new Promise((r) => setTimeout(r, 20));
      const events = wide.events.emitted;
      expect(events.some((e) => 'invokeId' in e.data)).toBe(false);
      const instances = [0, 1, 2].map(() => ({ ...functionInstance(), fetcher: new ResultFetcher(async () => wideAssistant, 'cn-hangzhou', store, { gatherMs: 50, intervalMs: 5000, donePollMs: 20 }) }));
      // A warm instance read the manifest before the fan-out recorded the invocation.
      const stray = { ...events[0]!, id: 'stray', data: { ...events[0]!.data, instanceId: 'i-notatarget0' } };
      expect((await handleTaskEvents(taskCompletedEnvelope.records([stray]), instances[0]!)).skipped).toHaveLength(1);
      await store.put(runKeys.manifest(runId), JSON.stringify(runManifestSchema.parse({ ...base, invocations: [{ invokeId, commandId, instanceIds: wideIds }] })));

      const outcomes = await Promise.all(instances.map((deps, n) => handleTaskEvents(taskCompletedEnvelope.records(events.slice(n * 20, n * 20 + 20)), deps)));
      expect([wide.calls.DescribeInvocations ?? 0, wide.calls.DescribeInvocationResults ?? 0]).toEqual([1, 0]);
      expect(outcomes.reduce((sum, o) => sum + o.sent, 0)).toBe(60);
      const results = asSent.records((await drain()).map((b) => ({ data: { messageBody: b } }))).map((d) => (d.ok ? d.record : undefined));
      expect(results.map((r) => r?.instanceId).sort()).toEqual([...wideIds].sort());
      expect(results.every((r) => r?.invokeId === invokeId && r.output === `${r.instanceId} ok\n`)).toBe(true);
      // The budget is kept per command: the events named no invocation.
      expect((await store.get(runKeys.readDone(runId, commandId, 0))) !== undefined).toBe(true);
    } finally {
      await wide.close();
    }
  });
});
