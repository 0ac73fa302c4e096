/**
 * The result fetcher against the local Cloud Assistant: never more reads per command than a poller
 * started with the run would have made, the first request answered at once, reads a quiet spell
 * saved spent at once, and requests that must wait sharing one call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { ResultFetcher } from '../../shared/pipeline/result-fetcher.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';

let emulator: EcsEmulator;
let assistant: EcsCloudAssistant;
const ids = generatedFleet(4).map((i) => i.id);

beforeAll(async () => {
  emulator = await startEcsEmulator({
    fleet: generatedFleet(4),
    accessKeys: { fetch: 'fetch-secret-value' },
    synthetic: ({ instanceId }) => ({ durationMs: 5, exitCode: 0, output: `out of ${instanceId}\n` }),
  });
  assistant = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: emulator.endpoint, protocol: 'http', credentials: { accessKeyId: 'fetch', accessKeySecret: 'fetch-secret-value' } });
});
afterAll(async () => emulator.close());

async function finishedInvocation(): Promise<{ commandId: string; invokeId: string }> {
  const before = emulator.events.emitted.length;
  const started = await assistant.runCommand({ RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true', InstanceId: ids });
  while (emulator.events.emitted.length < before + ids.length) await new Promise((r) => setTimeout(r, 20));
  return started;
}

const reads = () => (emulator.calls.DescribeInvocations ?? 0) + (emulator.calls.DescribeInvocationResults ?? 0);

describe('Class: ResultFetcher', () => {
  it('answers the first request at once; requests beyond the poller\'s count wait for its next read and share it', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const fetcher = new ResultFetcher(async () => assistant, 'cn-hangzhou', { gatherMs: 10, intervalMs: 400 });
    const callsBefore = { ...emulator.calls };
    const since = Date.now();

    const first = await fetcher.fetch(commandId, invokeId, ids[0]!, since);
    expect(first).toMatchObject({ instanceId: ids[0], status: 'Success', output: `out of ${ids[0]}\n` });
    expect((emulator.calls.DescribeInvocationResults ?? 0) - (callsBefore.DescribeInvocationResults ?? 0)).toBe(1);

    const rest = await Promise.all(ids.slice(1).map((id) => fetcher.fetch(commandId, invokeId, id, since)));
    // A poller started at `since` makes its second read at since + 2 intervals: so does the fetcher.
    expect(Date.now() - since).toBeGreaterThanOrEqual(800);
    expect(rest.map((r) => [r?.instanceId, r?.output])).toEqual(ids.slice(1).map((id) => [id, `out of ${id}\n`]));
    expect((emulator.calls.DescribeInvocations ?? 0) - (callsBefore.DescribeInvocations ?? 0)).toBe(1);
    expect(fetcher.calls).toBe(2);
  });

  it('spends the reads a quiet spell saved at once', async () => {
    const { commandId, invokeId } = await finishedInvocation();
    const fetcher = new ResultFetcher(async () => assistant, 'cn-hangzhou', { gatherMs: 10, intervalMs: 60_000 });
    // The run began three intervals ago and nothing was read since: a poller would have read three times.
    const since = Date.now() - 180_000;
    const t = Date.now();
    for (const id of ids.slice(0, 3)) await fetcher.fetch(commandId, invokeId, id, since);
    expect(Date.now() - t).toBeLessThan(30_000);
    expect(fetcher.calls).toBe(3);
    // The fourth would be one more than the poller's: it waits (and is not awaited here).
    void fetcher.fetch(commandId, invokeId, ids[3]!, since);
    await new Promise((r) => setTimeout(r, 200));
    expect(fetcher.calls).toBe(3);
  });

  it('keeps commands apart: each has its own interval', async () => {
    const a = await finishedInvocation();
    const b = await finishedInvocation();
    const fetcher = new ResultFetcher(async () => assistant, 'cn-hangzhou', { gatherMs: 10, intervalMs: 20_000 });
    const before = reads();
    const t = Date.now();
    const [ra, rb] = await Promise.all([fetcher.fetch(a.commandId, a.invokeId, ids[1]!, t), fetcher.fetch(b.commandId, b.invokeId, ids[2]!, t)]);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect([ra?.invokeId, rb?.invokeId]).toEqual([a.invokeId, b.invokeId]);
    expect(reads() - before).toBe(2);
  });

  it('finds results by CommandId when events name no invocation', async () => {
    const { commandId } = await finishedInvocation();
    const fetcher = new ResultFetcher(async () => assistant, 'cn-hangzhou', { gatherMs: 30, intervalMs: 1000 });
    const results = await Promise.all(ids.map((id) => fetcher.fetch(commandId, undefined, id, Date.now())));
    expect(results.map((r) => r?.status)).toEqual(ids.map(() => 'Success'));
    expect(fetcher.calls).toBe(1);
  });
});
