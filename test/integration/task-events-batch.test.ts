/**
 * task-events serving a batch as one unit, on the local ECS, OSS and MNS: each run's events on
 * their own, so a run whose manifest is not there yet and a run whose ECS read fails leave the
 * other run's results sent; the invocation then fails naming exactly the failed events, and the
 * same batch delivered again once the trouble is over serves every event. And an output object
 * that lands after its event: waited for (relisting) within FLEETRUN_OUTPUT_WAIT_MS, read from ECS
 * past it, and the wait cut short by the invocation's deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { taskCompletedEnvelope, TASK_COMPLETED_TYPE, type TaskCompletedEvent } from '../../shared/events/task-completed.ts';
import { DeliveredOutputIndex, outputBatchPrefix, outputPrefixFor } from '../../shared/pipeline/output-sources.ts';
import { ResultFetcher } from '../../shared/pipeline/result-fetcher.ts';
import { resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { handleTaskEvents, TaskEventsFailedError, type TaskEventsDeps, type TaskEventsOutcome } from '../../shared/pipeline/task-events.ts';
import { MnsResultQueue } from '../../shared/queue/mns-queue.ts';
import { commandNameFor, runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';
import { ACCOUNT_ID, AK as MNS_AK, SK as MNS_SK, startTestBed, type MnsTestBed } from './mns-support.ts';
import { AK, BUCKET, REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const FLEET = generatedFleet(12);
const ids = FLEET.map((i) => i.id);
const QUEUE = 'fleetrun-results-batch';
const asSent = resultMessagesEnvelope({ isBase64Decode: false });

let ecs: EcsEmulator;
let assistant: EcsCloudAssistant;
let oss: TestOss;
let mns: MnsTestBed;
let store: AliOssStore;

beforeAll(async () => {
  ecs = await startEcsEmulator({
    fleet: FLEET,
    accessKeys: { te: 'task-events-secret' },
    synthetic: ({ instanceId }) => ({ durationMs: 5, exitCode: 0, output: `from ECS on ${instanceId}\n` }),
  });
  // One attempt: an ECS error is the transient failure under test, not something to retry here.
  assistant = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: ecs.endpoint, protocol: 'http', credentials: { accessKeyId: 'te', accessKeySecret: 'task-events-secret' }, retry: { maxAttempts: 1 } });
  oss = await startTestOss();
  mns = await startTestBed({ queues: [{ name: QUEUE }] });
  store = new AliOssStore({ bucket: BUCKET, region: REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => {
  await ecs?.close();
  await oss?.close();
  await mns?.close();
});

/** One FC instance of task-events (the runs bucket doubles as the output bucket here), its listings counted. */
function functionInstance(extra: Partial<TaskEventsDeps> = {}): TaskEventsDeps & { listings: () => number } {
  let listings = 0;
  const counted = Object.assign(Object.create(store) as AliOssStore, {
    list: (prefix: string) => {
      listings++;
      return store.list(prefix);
    },
  });
  return {
    store,
    outputs: new DeliveredOutputIndex(counted),
    queue: new MnsResultQueue({ accountId: ACCOUNT_ID, queueName: QUEUE, credentials: { accessKeyId: MNS_AK, accessKeySecret: MNS_SK }, endpoint: mns.emulator.endpoint }),
    fetcher: new ResultFetcher(async () => assistant, 'cn-hangzhou', store, { gatherMs: 20, intervalMs: 0 }),
    logger: createLogger({ sink: () => {} }),
    listings: () => listings,
    ...extra,
  };
}

async function drain(): Promise<InstanceResult[]> {
  const bodies: string[] = [];
  for (;;) {
    let batch;
    try {
      batch = await mns.client.batchReceiveMessage(QUEUE, 16);
    } catch {
      break; // MessageNotExist: the queue is empty
    }
    bodies.push(...batch.body.map((m) => m.MessageBody!));
    await mns.client.batchDeleteMessage(QUEUE, batch.body.map((m) => m.ReceiptHandle!));
  }
  return asSent.records(bodies.map((b) => ({ data: { messageBody: b } }))).map((d) => {
    if (!d.ok) throw new Error(d.reason);
    return d.record;
  });
}

const reads = () => (ecs.calls.DescribeInvocations ?? 0) + (ecs.calls.DescribeInvocationResults ?? 0);

function manifestOf(runId: string, targets: string[], output: 'oss' | 'fetch') {
  return runManifestSchema.parse({
    version: 1, runId, createdAt: new Date().toISOString(), requestedBy: { kind: 'cli' },
    command: { name: 'check', type: 'RunShellScript', timeoutSeconds: 60 },
    targets, output: output === 'oss' ? { mode: 'oss', bucket: BUCKET, prefix: outputPrefixFor(runId) } : { mode: 'fetch' },
  });
}

/** Runs the command for real on the local ECS (so a read has something to find) and answers its events. */
async function ranOn(runId: string, targets: string[]): Promise<TaskCompletedEvent[]> {
  const before = ecs.events.emitted.length;
  await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', Name: commandNameFor(runId, 'check', 0), InstanceId: targets });
  while (ecs.events.emitted.length < before + targets.length) await new Promise((r) => setTimeout(r, 20));
  return ecs.events.emitted.slice(before) as unknown as TaskCompletedEvent[];
}

/** Cloud Assistant's delivery of one output, as the local Cloud Assistant lays it out. */
const deliver = (runId: string, event: TaskCompletedEvent, text: string) => store.put(`${outputBatchPrefix(outputPrefixFor(runId), 0)}${event.data.invokeId}/${event.data.instanceId}/1.log`, text);

async function failureOf(p: Promise<TaskEventsOutcome>): Promise<TaskEventsFailedError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TaskEventsFailedError) return e;
    throw e;
  }
  throw new Error('the batch did not fail');
}

describe('a batch of several runs', () => {
  it("sends the healthy run's results, fails the invocation naming only the failed events, and serves them all when delivered again", async () => {
    // Prepare: run ok (outputs in OSS), run gone (no manifest yet), run ecs (fetch mode; ECS answers errors).
    const ok = 'r-20261201t000000-batok1';
    const gone = 'r-20261201t000000-batgn1';
    const viaEcs = 'r-20261201t000000-batec1';
    const okEvents = await ranOn(ok, ids.slice(0, 4));
    const goneEvents = await ranOn(gone, ids.slice(4, 7));
    const ecsEvents = await ranOn(viaEcs, ids.slice(7, 10));
    await store.put(runKeys.manifest(ok), JSON.stringify(manifestOf(ok, ids.slice(0, 4), 'oss')));
    await store.put(runKeys.manifest(viaEcs), JSON.stringify(manifestOf(viaEcs, ids.slice(7, 10), 'fetch')));
    for (const e of okEvents) await deliver(ok, e, `delivered for ${e.data.instanceId}\n`);
    const foreign = { ...okEvents[0]!, id: 'foreign-1', data: { ...okEvents[0]!.data, commandName: 'someone-elses.sh' } };
    const malformed = { id: 'malformed-1', source: 'acs.ecs', type: TASK_COMPLETED_TYPE, data: { commandId: 'c-1' } };
    // Interleaved, one event twice, as a batch window may gather them.
    const batch = [okEvents[0], goneEvents[0], ecsEvents[0], malformed, okEvents[1], ecsEvents[1], goneEvents[1], okEvents[2], foreign, ecsEvents[2], goneEvents[2], okEvents[3], okEvents[1]];
    ecs.faults.configure({ errorRate: 1 });

    // Act
    let failure: TaskEventsFailedError;
    try {
      failure = await failureOf(handleTaskEvents(taskCompletedEnvelope.records(batch), functionInstance({ outputWaitMs: 0 })));
    } finally {
      ecs.faults.configure({ errorRate: 0 });
    }

    // Assess: ok's four were sent, with their delivered outputs; the other six failed with their reasons.
    const { outcome } = failure;
    expect(outcome.served.sort()).toEqual([...okEvents.map((e) => e.id), okEvents[1]!.id].sort());
    expect(outcome.failed.map((f) => f.id).sort()).toEqual([...goneEvents, ...ecsEvents].map((e) => e.id).sort());
    for (const f of outcome.failed) expect(f.reason).toMatch(goneEvents.some((e) => e.id === f.id) ? /^ManifestMissingError: no manifest for run r-20261201t000000-batgn1/ : /ServiceUnavailable/);
    expect(outcome.skipped.map((s) => s.id)).toEqual(['malformed-1', 'foreign-1']);
    expect(failure.message).toContain(goneEvents[0]!.id);
    expect(failure.message).not.toContain(okEvents[0]!.id);
    const first = await drain();
    expect(first.map((r) => [r.instanceId, r.output]).sort()).toEqual(okEvents.map((e) => [e.data.instanceId, `delivered for ${e.data.instanceId}\n`]).sort());

    // Act: the trouble is over (the manifest is written, ECS answers), and the same batch comes again.
    await store.put(runKeys.manifest(gone), JSON.stringify(manifestOf(gone, ids.slice(4, 7), 'fetch')));
    const again = await handleTaskEvents(taskCompletedEnvelope.records(batch), functionInstance({ outputWaitMs: 0 }));

    // Assess: every event served; ok's results go out twice (summarize keeps the first), the rest once, from ECS.
    expect(again.failed).toEqual([]);
    expect(again.served).toHaveLength(batch.length - 2);
    const second = await drain();
    expect(second.filter((r) => r.runId === ok)).toHaveLength(4);
    expect(second.filter((r) => r.runId !== ok).map((r) => [r.instanceId, r.output]).sort()).toEqual([...goneEvents, ...ecsEvents].map((e) => [e.data.instanceId, `from ECS on ${e.data.instanceId}\n`]).sort());
  });
});

describe('an output object later than its event', () => {
  it('is waited for within the bound: listed again with backoff, no ECS read', async () => {
    const runId = 'r-20261201t000000-late01';
    const events = await ranOn(runId, ids.slice(0, 3));
    await store.put(runKeys.manifest(runId), JSON.stringify(manifestOf(runId, ids.slice(0, 3), 'oss')));
    await deliver(runId, events[0]!, 'on time\n');
    const readsBefore = reads();
    const instance = functionInstance({ outputWaitMs: 5000 });
    setTimeout(() => void deliver(runId, events[1]!, 'late by 400 ms\n'), 400);
    setTimeout(() => void deliver(runId, events[2]!, 'late by 1200 ms\n'), 1200);

    const started = Date.now();
    const outcome = await handleTaskEvents(taskCompletedEnvelope.records(events), instance);

    expect(outcome).toMatchObject({ sent: 3, failed: [] });
    expect(reads() - readsBefore).toBe(0);
    const results = await drain();
    expect(Object.fromEntries(results.map((r) => [r.instanceId, r.output]))).toEqual({ [ids[0]!]: 'on time\n', [ids[1]!]: 'late by 400 ms\n', [ids[2]!]: 'late by 1200 ms\n' });
    // Not held until the bound; and listed a few times (the pause doubles to 500 ms), not in a tight loop.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(instance.listings()).toBeGreaterThanOrEqual(3);
    expect(instance.listings()).toBeLessThanOrEqual(10);
  });

  it('past the bound is read from ECS instead, and the early ones are not held back until then', async () => {
    const runId = 'r-20261201t000000-late02';
    const events = await ranOn(runId, ids.slice(3, 5));
    await store.put(runKeys.manifest(runId), JSON.stringify(manifestOf(runId, ids.slice(3, 5), 'oss')));
    await deliver(runId, events[0]!, 'on time\n');
    const readsBefore = reads();
    const instance = functionInstance({ outputWaitMs: 1500 });
    // The real queue, each send's moment noted on the way through.
    const sends: { at: number; bodies: number }[] = [];
    const queue = instance.queue;
    instance.queue = { send: async (bodies) => {
      await queue.send(bodies);
      sends.push({ at: Date.now(), bodies: bodies.length });
    } };

    const started = Date.now();
    const outcome = await handleTaskEvents(taskCompletedEnvelope.records(events), instance);

    expect(outcome).toMatchObject({ sent: 2, failed: [] });
    // One read, of the one instance whose output never came (onlyThese: the other's is delivered).
    expect(reads() - readsBefore).toBe(1);
    expect(sends.map((s) => s.bodies)).toEqual([1, 1]);
    expect(sends[0]!.at - started).toBeLessThan(1500);
    expect(sends[1]!.at - started).toBeGreaterThanOrEqual(1500);
    const results = await drain();
    expect(Object.fromEntries(results.map((r) => [r.instanceId, r.output]))).toEqual({ [ids[3]!]: 'on time\n', [ids[4]!]: `from ECS on ${ids[4]}\n` });
  });

  it("is waited for no longer than the invocation's deadline leaves room for", async () => {
    const runId = 'r-20261201t000000-late03';
    const events = await ranOn(runId, ids.slice(5, 6));
    await store.put(runKeys.manifest(runId), JSON.stringify(manifestOf(runId, ids.slice(5, 6), 'oss')));
    const readsBefore = reads();
    // 21 s left: the 20 s reserved for a read leaves about one second of waiting, not the 60 s asked for.
    const started = Date.now();
    const outcome = await handleTaskEvents(taskCompletedEnvelope.records(events), functionInstance({ outputWaitMs: 60_000, deadline: new Date(started + 21_000) }));

    expect(outcome).toMatchObject({ sent: 1, failed: [] });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reads() - readsBefore).toBe(1);
    expect((await drain()).map((r) => r.output)).toEqual([`from ECS on ${ids[5]}\n`]);
  });
});
