/**
 * The result fetcher against the local Cloud Assistant and the local OSS: separate ResultFetcher
 * objects stand for separate FC instances (one event each, as FC 3.0's nodejs20 runs them), and
 * the only thing they share is the runs bucket. Never more reads per command than a poller started
 * with the run would have made; one read per slot, whose results go out for every instance it
 * found finished; a claimant that dies holds nobody past the next slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { FetchDeferredError, ResultFetcher, type FetchOutcome, type FetchRequest, type ResultFetcherOptions } from '../../shared/pipeline/result-fetcher.ts';
import type { ResultJson } from '../../shared/queue/result-packing.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';
import { AK, BUCKET, REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const FLEET = generatedFleet(6);
const ids = FLEET.map((i) => i.id);
/** Synthetic run time per instance (ms); 0 for all but the staggered test. */
const durations = new Map<string, number>();

let emulator: EcsEmulator;
let assistant: EcsCloudAssistant;
let oss: TestOss;
let store: AliOssStore;
let runSeq = 0;

beforeAll(async () => {
  emulator = await startEcsEmulator({
    fleet: FLEET,
    accessKeys: { fetch: 'fetch-secret-value' },
    synthetic: ({ instanceId }) => ({ durationMs: durations.get(instanceId) ?? 5, exitCode: 0, output: `out of ${instanceId}\n` }),
  });
  assistant = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: emulator.endpoint, protocol: 'http', credentials: { accessKeyId: 'fetch', accessKeySecret: 'fetch-secret-value' } });
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => {
  await emulator?.close();
  await oss?.close();
});

const reads = () => (emulator.calls.DescribeInvocations ?? 0) + (emulator.calls.DescribeInvocationResults ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The fetcher passes results through unread: an instance id stands for each here. */
const stand = (text: string) => text as ResultJson;

/** Runs a command on the fleet and waits for every instance's event. */
async function finishedInvocation(): Promise<{ commandId: string; invokeId: string }> {
  const before = emulator.events.emitted.length;
  const started = await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', InstanceId: ids });
  while (emulator.events.emitted.length < before + ids.length) await sleep(20);
  return started;
}

/** One FC instance: its own fetcher; what it sends is recorded (body = instance id) into the shared `sent`. */
function instance(options: Partial<ResultFetcherOptions> = {}) {
  const fetcher = new ResultFetcher(async () => assistant, 'cn-hangzhou', store, { gatherMs: 30, intervalMs: 1000, donePollMs: 20, ...options });
  return {
    fetcher,
    fetch(sent: string[], req: { runId: string; commandId: string; invokeId: string | undefined; instanceId: string; since: number }): Promise<FetchOutcome> {
      const request: FetchRequest = {
        ...req,
        message: async (r) => stand(r ? r.instanceId : `no result for ${req.instanceId}`),
        publisher: { messageFor: async (r) => stand(r.instanceId), send: async (bodies) => void sent.push(...bodies) },
      };
      return fetcher.fetch(request);
    },
  };
}

const newRunId = () => `r-20261201t000000-fetch${String(++runSeq).padStart(2, '0')}`;

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key.slice(prefix.length));
  return keys;
}

describe('Class: ResultFetcher, instances sharing the runs bucket', () => {
  it('makes one read for events in separate instances, and sends every finished result once', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const sent: string[] = [];
    const since = Date.now();
    const before = reads();
    const outcomes = await Promise.all(ids.map((id) => instance().fetch(sent, { runId, commandId, invokeId, instanceId: id, since })));
    expect(reads() - before).toBe(1);
    expect(outcomes.filter((o) => o === 'read')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'covered')).toHaveLength(ids.length - 1);
    expect([...sent].sort()).toEqual([...ids].sort());
    // Nobody waited for the next slot.
    expect(Date.now() - since).toBeLessThan(1000);
    expect(await keysUnder(runKeys.readsPrefix(runId, invokeId))).toEqual(['0', '0.done']);
    // The done names instances, nothing of their output.
    const done = (await store.get(runKeys.readDone(runId, invokeId, 0)))!.toString();
    expect(JSON.parse(done)).toEqual({ version: 1, instances: [...ids].sort() });
  });

  it('keeps in-process sharing: requests of one instance share one claim and one read', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const sent: string[] = [];
    const one = instance();
    const before = reads();
    const outcomes = await Promise.all(ids.slice(0, 4).map((id) => one.fetch(sent, { runId, commandId, invokeId, instanceId: id, since: Date.now() })));
    expect(outcomes).toEqual(['read', 'read', 'read', 'read']);
    expect(reads() - before).toBe(1);
    expect(one.fetcher.calls).toBe(1);
    // The other two finished too: sent on their events' behalf.
    expect([...sent].sort()).toEqual([...ids].sort());
    expect(one.fetcher.sentForOthers).toBe(2);
  });

  it('never reads more often than a poller started with the run, as events come one by one to fresh instances', async () => {
    ids.forEach((id, n) => durations.set(id, 150 + n * 250));
    try {
      const runId = newRunId();
      const intervalMs = 400;
      const sent: string[] = [];
      const before = reads();
      const emittedBefore = emulator.events.emitted.length;
      const since = Date.now();
      const samples: { at: number; reads: number }[] = [];
      const sampler = setInterval(() => samples.push({ at: Date.now(), reads: reads() - before }), 5);
      const { commandId, invokeId } = await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', InstanceId: ids });
      // Each event, as it comes, goes to an instance of its own.
      const answers: Promise<FetchOutcome>[] = [];
      for (let seen = 0; seen < ids.length; ) {
        const emitted = emulator.events.emitted.slice(emittedBefore + seen);
        for (const e of emitted) answers.push(instance({ gatherMs: 20, intervalMs }).fetch(sent, { runId, commandId, invokeId, instanceId: e.data.instanceId, since }));
        seen += emitted.length;
        await sleep(10);
      }
      await Promise.all(answers);
      clearInterval(sampler);
      samples.push({ at: Date.now(), reads: reads() - before });
      for (const s of samples) expect(s.reads, `at ${s.at - since} ms`).toBeLessThanOrEqual(Math.floor((s.at - since) / intervalMs) + 1);
      // Finishes spread over 1.4 s: more than one read, fewer than one per event.
      const made = reads() - before;
      expect(made).toBeGreaterThan(1);
      expect(made).toBeLessThan(ids.length);
      expect(new Set(sent)).toEqual(new Set(ids));
      // Every read held a claim on a slot of its own (a claimant that found its events sent reads nothing).
      const claims = (await keysUnder(runKeys.readsPrefix(runId, invokeId))).filter((k) => /^\d+$/.test(k));
      expect(claims.length).toBeGreaterThanOrEqual(made);
    } finally {
      durations.clear();
    }
  });

  it('takes the next slot when a claim\'s holder died before saying what it read', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const since = Date.now();
    // An instance claimed slot 0 and died: no done will ever come.
    expect(await store.put(runKeys.readClaim(runId, invokeId, 0), '{"version":1}', { forbidOverwrite: true })).toBe('written');
    const sent: string[] = [];
    const before = reads();
    const outcome = await instance({ intervalMs: 600, holderGraceMs: 200 }).fetch(sent, { runId, commandId, invokeId, instanceId: ids[0]!, since });
    expect(outcome).toBe('read');
    expect(Date.now() - since).toBeGreaterThanOrEqual(600);
    expect(Date.now() - since).toBeLessThan(5000);
    expect(reads() - before).toBe(1);
    expect(new Set(sent)).toEqual(new Set(ids));
    expect(await keysUnder(runKeys.readsPrefix(runId, invokeId))).toEqual(['0', '1', '1.done']);
  });

  it('fails the events of a read that failed, and leaves its slot without a done for the others to move past', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const refused = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: emulator.endpoint, protocol: 'http', credentials: { accessKeyId: 'fetch', accessKeySecret: 'not-the-secret' } });
    const broken = new ResultFetcher(async () => refused, 'cn-hangzhou', store, { gatherMs: 10, intervalMs: 500, donePollMs: 20 });
    const since = Date.now();
    const request = (instanceId: string): FetchRequest => ({
      runId, commandId, invokeId, instanceId, since,
      message: async () => stand(instanceId),
      publisher: { messageFor: async (r) => stand(r.instanceId), send: async () => {} },
    });
    await expect(Promise.all([broken.fetch(request(ids[0]!)), broken.fetch(request(ids[1]!))])).rejects.toThrow();
    expect(await keysUnder(runKeys.readsPrefix(runId, invokeId))).toEqual(['0']);
    const sent: string[] = [];
    const outcome = await instance({ intervalMs: 500, holderGraceMs: 100 }).fetch(sent, { runId, commandId, invokeId, instanceId: ids[1]!, since });
    expect(outcome).toBe('read');
    expect(new Set(sent)).toEqual(new Set(ids));
  });

  it('spends no read on an instance an earlier read already sent', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const sent: string[] = [];
    const since = Date.now() - 10_000;
    await instance().fetch(sent, { runId, commandId, invokeId, instanceId: ids[0]!, since });
    const before = reads();
    // A late (or redelivered) event of another instance, in the next slot, in a fresh instance.
    await sleep(1000);
    const late = await instance().fetch(sent, { runId, commandId, invokeId, instanceId: ids[3]!, since });
    expect(late).toBe('covered');
    expect(reads() - before).toBe(0);
    expect(sent.filter((s) => s === ids[3])).toHaveLength(1);
  });

  it('gives up (for the event to come again) rather than wait past maxWaitMs for a slot', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const runId = newRunId();
    const since = Date.now();
    // Slot 0 was read and covered nothing this event needs; slot 1 opens a minute after the start.
    await store.put(runKeys.readClaim(runId, invokeId, 0), '{"version":1}', { forbidOverwrite: true });
    await store.put(runKeys.readDone(runId, invokeId, 0), JSON.stringify({ version: 1, instances: [] }));
    const before = reads();
    const t = Date.now();
    await expect(instance({ intervalMs: 60_000, maxWaitMs: 2000 }).fetch([], { runId, commandId, invokeId, instanceId: ids[1]!, since })).rejects.toBeInstanceOf(FetchDeferredError);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(reads() - before).toBe(0);
  });

  it('reads a single-target run\'s one result with DescribeInvocationResults', async () => {
    const before = emulator.events.emitted.length;
    const { commandId, invokeId } = await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', InstanceId: [ids[2]!] });
    while (emulator.events.emitted.length < before + 1) await sleep(20);
    const calls = { ...emulator.calls };
    const sent: string[] = [];
    const one = instance();
    const request: FetchRequest = {
      runId: newRunId(), commandId, invokeId, instanceId: ids[2]!, since: Date.now(), onlyThese: true,
      message: async (r) => stand(`${r?.instanceId} ${r?.output.trim()}`),
      publisher: { messageFor: async (r) => stand(r.instanceId), send: async (bodies) => void sent.push(...bodies) },
    };
    expect(await one.fetcher.fetch(request)).toBe('read');
    expect(sent).toEqual([`${ids[2]} out of ${ids[2]}`]);
    expect((emulator.calls.DescribeInvocationResults ?? 0) - (calls.DescribeInvocationResults ?? 0)).toBe(1);
    expect((emulator.calls.DescribeInvocations ?? 0) - (calls.DescribeInvocations ?? 0)).toBe(0);
  });

  it('reads only its own instances, and sends nothing for others, when their outputs come another way', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const calls = { ...emulator.calls };
    const sent: string[] = [];
    const request: FetchRequest = {
      runId: newRunId(), commandId, invokeId, instanceId: ids[4]!, since: Date.now(), onlyThese: true,
      message: async (r) => stand(`${r?.instanceId}`),
      publisher: { messageFor: async (r) => stand(r.instanceId), send: async (bodies) => void sent.push(...bodies) },
    };
    expect(await instance().fetcher.fetch(request)).toBe('read');
    expect(sent).toEqual([ids[4]]);
    expect((emulator.calls.DescribeInvocationResults ?? 0) - (calls.DescribeInvocationResults ?? 0)).toBe(1);
    expect((emulator.calls.DescribeInvocations ?? 0) - (calls.DescribeInvocations ?? 0)).toBe(0);
  });

  it('finds results by CommandId when events name no invocation', async () => {
    const { commandId } = await finishedInvocation();
    const runId = newRunId();
    const sent: string[] = [];
    const before = { ...emulator.calls };
    await Promise.all(ids.map((id) => instance().fetch(sent, { runId, commandId, invokeId: undefined, instanceId: id, since: Date.now() })));
    expect((emulator.calls.DescribeInvocationResults ?? 0) - (before.DescribeInvocationResults ?? 0)).toBe(1);
    expect((emulator.calls.DescribeInvocations ?? 0) - (before.DescribeInvocations ?? 0)).toBe(0);
    expect(new Set(sent)).toEqual(new Set(ids));
    expect(await keysUnder(runKeys.readsPrefix(runId, commandId))).toEqual(['0', '0.done']);
  });
});
