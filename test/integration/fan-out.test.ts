/**
 * The fan-out (shared/pipeline/fan-out.ts) against the local OSS and Cloud Assistant, through
 * their SDKs, with no function running: every move here is one the test makes as summarize, the
 * reconciler, a retried dispatch or a stop would. Each call is in the log the moment it is sent;
 * a wave goes once however many look at the same moment; maxErrors and a stop end it; a batch
 * whose sender died after calling is sent again under its ClientToken, and runs once; the notice
 * goes out once, before the manifest says the fan-out is done; a scheduled job's maxConcurrency holds.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { loadCatalog } from '../../shared/config/catalog.ts';
import { advanceFanOut, invocationsSoFar, readPlan, type FanOutDeps } from '../../shared/pipeline/fan-out.ts';
import { NO_CHAT, readManifest, type ChatReplier } from '../../shared/pipeline/finish-run.ts';
import { newRunId, startRun } from '../../shared/pipeline/start-run.ts';
import { requestStop } from '../../shared/pipeline/stop-request.ts';
import { StoredResults } from '../../shared/pipeline/stored-results.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import type { RunManifest } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { runJobsTick } from '../../shared/schedule/jobs-tick.ts';
import { parseJobsFile } from '../../shared/schedule/jobs-file.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';
import { waitUntil } from '../../local/cli/harness/pipeline-cloud.ts';
import { PROJECT_ROOT } from '../../local/local-cloud.ts';
import { AK, BUCKET, REGION as OSS_REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const REGION = 'cn-hangzhou';
const ECS_KEY = { accessKeyId: 'fan-out-key', accessKeySecret: 'fan-out-secret' };

let oss: TestOss;
let ecs: EcsEmulator;
let assistant: EcsCloudAssistant;
let ids: string[];
const logger = createLogger({ sink: () => {} });

beforeAll(async () => {
  oss = await startTestOss();
  // Synthetic agents: nothing spawned; a run takes 20 ms and succeeds.
  ecs = await startEcsEmulator({ fleet: generatedFleet(40, { env: 'fan' }), accessKeys: { [ECS_KEY.accessKeyId]: ECS_KEY.accessKeySecret }, regionId: REGION, synthetic: () => ({ durationMs: 20, exitCode: 0, output: 'ok\n' }) });
  assistant = await EcsCloudAssistant.create({ regionId: REGION, credentials: ECS_KEY, endpoint: ecs.endpoint, protocol: 'http' });
  ids = [...ecs.fleet.keys()];
});
afterAll(async () => {
  await ecs?.close();
  await oss?.close();
});

/** A store as one function instance would have it: its own ali-oss client. */
function newStore(): AliOssStore {
  return new AliOssStore({ bucket: BUCKET, region: OSS_REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
}

function fanOutDeps(store: ObjectStore, chat: ChatReplier = NO_CHAT): FanOutDeps {
  return { store, assistant: async () => assistant, regionId: REGION, chat, logger, roundDelayMs: 10 };
}

/** Starts a run on `targets` as dispatch would, with the given limits. */
async function start(targets: string[], limits: { maxConcurrency?: number; maxErrors?: number }, chat: ChatReplier = NO_CHAT): Promise<RunManifest> {
  return startRun(
    { runId: newRunId(), command: { name: 'fan', type: 'RunShellScript', script: 'echo fan', timeoutSeconds: 60 }, targets: { instanceIds: targets }, requestedBy: { kind: 'cli' }, ...limits, replyTo: { platform: 'webhook' } },
    { assistant, store: newStore(), regionId: REGION, chat, logger },
  );
}

/** Results of these instances stored as summarize stores them (one batch object), `failed` among them not Success. */
async function stored(manifest: RunManifest, done: string[], failed: string[] = []): Promise<void> {
  const result = (instanceId: string): InstanceResult => {
    const bad = failed.includes(instanceId);
    return { version: 1, runId: manifest.runId, invokeId: 't-fan', commandId: 'c-fan', instanceId, status: bad ? 'Failed' : 'Success', exitCode: bad ? 1 : 0, errorCode: bad ? 'ExitCodeNonzero' : '', errorInfo: '', output: '', outputBytes: 0, source: 'event' };
  };
  await new StoredResults(newStore()).storeBatch(manifest.runId, done.map(result));
}

const finishedOf = (manifest: RunManifest) => () => new StoredResults(newStore()).finished(manifest);
const runCommands = () => ecs.calls.RunCommand ?? 0;

describe('a concurrency-limited run', () => {
  it('sends its first wave and returns, each call in the log as it is sent; the next waves go as results are stored, each once however many look', async () => {
    // Act: 25 instances, 10 at a time.
    const before = runCommands();
    const manifest = await start(ids.slice(0, 25), { maxConcurrency: 10 });

    // Assess: one call of 10; the manifest open, the call in the log with its InvokeId.
    expect(runCommands() - before).toBe(1);
    expect(manifest.fanOut).toBe('open');
    expect(manifest.maxConcurrency).toBe(10);
    expect((await readPlan(newStore(), manifest.runId))!.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const first = await invocationsSoFar(manifest, newStore());
    expect(first).toHaveLength(1);
    expect(first[0]!.instanceIds).toEqual(ids.slice(0, 10));
    expect(ecs.service.invocations.has(first[0]!.invokeId)).toBe(true);
    expect((await readManifest(newStore(), manifest.runId))!.invocations).toEqual([]);

    // Nothing stored yet: nothing is due, whoever looks.
    await Promise.all(Array.from({ length: 3 }, () => advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest) })));
    expect(runCommands() - before).toBe(1);

    // Act: 4 of the first wave stored: still not room for a batch of 10.
    await stored(manifest, ids.slice(0, 4));
    await advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest) });
    expect(runCommands() - before).toBe(1);

    // Act: the whole first wave stored, and six summarizers look at once.
    await stored(manifest, ids.slice(4, 10));
    const notices: string[] = [];
    const chat: ChatReplier = { ...NO_CHAT, dispatched: async (m) => void notices.push(m.runId) };
    const six = await Promise.all(Array.from({ length: 6 }, () => advanceFanOut(manifest, fanOutDeps(newStore(), chat), { finished: finishedOf(manifest) })));

    // Assess: the second wave went once; the third is not due.
    expect(runCommands() - before).toBe(2);
    expect(six.flatMap((o) => o.sent)).toEqual([1]);
    expect(await newStore().get(runKeys.fanOutDecision(manifest.runId, 2))).toBeUndefined();
    expect(notices).toEqual([]);

    // Act: the second wave stored; three look at once, and the last batch (5) goes.
    await stored(manifest, ids.slice(10, 20));
    const statesAtNotice: (string | undefined)[] = [];
    const watching: ChatReplier = {
      ...NO_CHAT,
      dispatched: async (m) => {
        notices.push(m.runId);
        statesAtNotice.push((await readManifest(newStore(), m.runId))?.fanOut);
      },
    };
    const three = await Promise.all(Array.from({ length: 3 }, () => advanceFanOut(manifest, fanOutDeps(newStore(), watching), { finished: finishedOf(manifest) })));

    // Assess: every batch sent once, the manifest final with the three calls in order, the notice once and before it.
    expect(runCommands() - before).toBe(3);
    expect(three.flatMap((o) => o.sent)).toEqual([2]);
    expect(notices).toEqual([manifest.runId]);
    expect(statesAtNotice).toEqual(['open']);
    const final = (await readManifest(newStore(), manifest.runId))!;
    expect(final.fanOut).toBe('done');
    expect(final.invocations.map((i) => i.instanceIds)).toEqual([ids.slice(0, 10), ids.slice(10, 20), ids.slice(20, 25)]);
    expect(final.skipped).toEqual([]);
    // The one that recorded the last batch wrote it; the others may have looked before that record.
    expect(three.filter((o) => o.finalized).length).toBeGreaterThanOrEqual(1);
    const executed = () => ecs.agents.executionLog.filter((e) => final.invocations.some((i) => i.invokeId === e.invokeId)).map((e) => e.instanceId);
    await waitUntil(() => executed().length >= 25, 5_000, 'the last wave to start');
    expect(executed().sort()).toEqual(ids.slice(0, 25).sort());
  });

  it('ends at the next decision once more instances failed than maxErrors: the rest never sent, NotDispatched', async () => {
    const targets = ids.slice(25, 40);
    const before = runCommands();
    const manifest = await start(targets, { maxConcurrency: 5, maxErrors: 2 });
    expect(runCommands() - before).toBe(1);

    // Three of the first five failed: more than two.
    await stored(manifest, targets.slice(0, 5), targets.slice(0, 3));
    const advanced = await advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest) });

    expect(runCommands() - before).toBe(1);
    expect(advanced.finalized).toBe(true);
    expect(advanced.manifest.fanOut).toBe('done');
    expect(advanced.manifest.skipped).toEqual(targets.slice(5).map((instanceId) => ({ instanceId, reason: 'NotDispatched' })));
    expect(JSON.parse((await newStore().get(runKeys.fanOutDecision(manifest.runId, 1)))!.toString())).toMatchObject({ kind: 'end', from: 1, reason: 'max-errors' });
  });

  it('ends on a stop request: what was never sent is StopRequested, and the calls sent so far are named for stopping', async () => {
    const targets = ids.slice(0, 6);
    const manifest = await start(targets, { maxConcurrency: 2 });
    await requestStop(newStore(), manifest.runId);
    await stored(manifest, targets.slice(0, 2));
    const advanced = await advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest) });

    expect(advanced.manifest.fanOut).toBe('done');
    expect(advanced.invocations.map((i) => i.instanceIds)).toEqual([targets.slice(0, 2)]);
    expect(advanced.manifest.skipped).toEqual(targets.slice(2).map((instanceId) => ({ instanceId, reason: 'StopRequested' })));
  });
});

describe('a sender that dies', () => {
  it('after its call and before recording it: the reconciler sends the batch again under its ClientToken, which gives back the same invocation, run once', async () => {
    const targets = ids.slice(6, 10);
    const manifest = await start(targets, { maxConcurrency: 2 });
    await stored(manifest, targets.slice(0, 2));
    const invocationsBefore = ecs.service.invocations.size;

    // Act: a summarizer decides and sends batch 1, and dies before the record lands.
    const dying = Object.assign(Object.create(newStore()) as AliOssStore, {
      put: (key: string, body: string, options: object) => (key === runKeys.fanOutSent(manifest.runId, 1) ? Promise.reject(new Error('killed')) : newStore().put(key, body, options)),
    });
    await expect(advanceFanOut(manifest, fanOutDeps(dying), { finished: finishedOf(manifest) })).rejects.toThrow('killed');
    expect(ecs.service.invocations.size - invocationsBefore).toBe(1);
    expect(await invocationsSoFar(manifest, newStore())).toHaveLength(1);

    // Before the takeover time nobody sends it again; after, the reconciler does.
    await advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest), takeOverAfterSeconds: 3600 });
    expect(await invocationsSoFar(manifest, newStore())).toHaveLength(1);
    const taken = await advanceFanOut(manifest, fanOutDeps(newStore()), { finished: finishedOf(manifest), takeOverAfterSeconds: 0 });

    // Assess: recorded with the first call's InvokeId; no second invocation, each instance run once.
    expect(taken.sent).toEqual([1]);
    expect(taken.manifest.fanOut).toBe('done');
    expect(ecs.service.invocations.size - invocationsBefore).toBe(1);
    const second = taken.manifest.invocations[1]!;
    expect(second.instanceIds).toEqual(targets.slice(2));
    expect(ecs.service.invocations.has(second.invokeId)).toBe(true);
    const ran = () => ecs.agents.executionLog.filter((e) => e.invokeId === second.invokeId).map((e) => e.instanceId);
    await waitUntil(() => ran().length >= 2, 5_000, 'the batch to start');
    await new Promise((r) => setTimeout(r, 100));
    expect(ran().sort()).toEqual(targets.slice(2).sort());
  });
});

describe('what a run records of its targets and its command', () => {
  it("keeps the tags it was started on, each target's name and the catalog's grouping rules, in the plan and through to the final manifest", async () => {
    const catalog = await loadCatalog(path.join(PROJECT_ROOT, 'config/catalog.yaml'));
    const spec = buildRunSpec(catalog, { command: 'web-healthcheck', with: {}, targets: { tags: { env: 'fan', shard: '3' } }, requestedBy: { kind: 'cli' } }, undefined);
    const manifest = await startRun({ runId: newRunId(), ...spec }, { assistant, store: newStore(), regionId: REGION, chat: NO_CHAT, logger });
    const shard3 = ids.filter((id) => ecs.fleet.get(id)!.tags['shard'] === '3');
    expect(shard3).toHaveLength(4);
    expect(manifest.targetTags).toEqual({ env: 'fan', shard: '3' });
    expect(manifest.instanceNames).toEqual(Object.fromEntries(shard3.map((id) => [id, ecs.fleet.get(id)!.name])));
    expect(manifest.command.group).toEqual(catalog.commands['web-healthcheck']!.group);
    expect((await readPlan(newStore(), manifest.runId))!.command.group).toEqual(catalog.commands['web-healthcheck']!.group);
    const final = (await readManifest(newStore(), manifest.runId))!;
    expect(final.fanOut).toBe('done');
    expect([final.targetTags, final.instanceNames, final.command.group]).toEqual([manifest.targetTags, manifest.instanceNames, manifest.command.group]);
    // A run on instance ids was not chosen by tags.
    expect((await start(ids.slice(0, 1), {})).targetTags).toBeUndefined();
  });
});

describe('scheduled jobs', () => {
  it("start their run with the job's maxConcurrency: the first wave only", async () => {
    const [job] = parseJobsFile(`jobs:\n  - { name: waves, command: uptime, targets: { tags: { env: fan } }, frequency: '0 * * * * ? UTC', maxConcurrency: 15 }\n`, 'jobs.yaml', { now: new Date('2026-11-23T00:00:00Z') });
    const before = runCommands();
    const tick = await runJobsTick({
      jobs: [job!],
      catalog: await loadCatalog(path.join(PROJECT_ROOT, 'config/catalog.yaml')),
      store: newStore(),
      assistant: async () => assistant,
      regionId: REGION,
      chat: NO_CHAT,
      logger,
      now: new Date('2026-11-23T00:00:30Z'),
      lookbackSeconds: 60,
    });
    const runId = tick.timer.fired[0]!.runId;
    const manifest = (await readManifest(newStore(), runId))!;
    expect(manifest.maxConcurrency).toBe(15);
    expect((await readPlan(newStore(), runId))!.batches.map((b) => b.length)).toEqual([15, 15, 10]);
    expect(runCommands() - before).toBe(1);
    expect(await invocationsSoFar(manifest, newStore())).toHaveLength(1);
  });
});
