/**
 * The local cloud's modelled delivery delays (LocalCloudOptions.delays), driven through the
 * official ECS and OSS SDKs: a TaskCompleted event reaches the bus's rules no sooner than the
 * EventBridge delay after it was published, and Cloud Assistant's output object lands in OSS the
 * output-object delay after the event — absent when the event arrives, OssOutputStatus InProgress
 * meanwhile, then present and Finished. Timing is asserted as lower bounds only.
 */
import OSS from 'ali-oss';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePattern } from '../../local/eventbridge/pattern.ts';
import type { TaskCompletedEvent } from '../../local/ecs/task-events.ts';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/local-cloud.ts';
import { Ecs, IDS, Models, REGION, testFleet } from '../support/ecs-test-cloud.ts';

const KEY = { id: 'LTAI5tDelayTest', secret: 'delay-test-secret' };
const BUCKET = 'delay-outputs';

let cloud: LocalCloud | undefined;
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

async function start(delays: LocalCloudOptions['delays']): Promise<{ cloud: LocalCloud; ecs: any; oss: OSS }> {
  cloud = await startLocalCloud({ fleet: testFleet(), accessKeys: { [KEY.id]: KEY.secret }, regionId: REGION, ram: false, timers: false, delays, ecs: { slrExists: true } });
  const ecs = new Ecs(new $OpenApiUtil.Config({ accessKeyId: KEY.id, accessKeySecret: KEY.secret, endpoint: cloud.ecs.endpoint, protocol: 'http', regionId: REGION, readTimeout: 10_000 }));
  const oss = new OSS({ region: `oss-${REGION}`, accessKeyId: KEY.id, accessKeySecret: KEY.secret, endpoint: cloud.oss.endpoint, bucket: BUCKET } as OSS.Options);
  return { cloud, ecs, oss };
}

async function until<T>(get: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('LocalCloudOptions.delays', () => {
  it('eventBridge: each TaskCompleted event reaches the rules no sooner than the delay after its publication', async () => {
    const { cloud, ecs } = await start({ eventBridge: { kind: 'fixed', ms: 800 } });
    const arrivals: { event: TaskCompletedEvent; at: number }[] = [];
    cloud.bus.addRule({ name: 'probe', pattern: parsePattern('{"source":["acs.ecs"],"type":["ecs:CloudAssistant:TaskCompleted"]}'), target: async (e) => void arrivals.push({ event: e as TaskCompletedEvent, at: Date.now() }) });

    await ecs.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1, IDS.web2] }));
    await until(() => (arrivals.length >= 2 ? true : undefined), 'two events');

    expect(arrivals.map((a) => a.event.data.instanceId).sort()).toEqual([IDS.web1, IDS.web2]);
    for (const a of arrivals) expect(a.at - Date.parse(a.event.aliyunpublishtime)).toBeGreaterThanOrEqual(800);
    // One event object per rule call: the probe rule has no batch window.
    expect(arrivals.every((a) => !Array.isArray(a.event))).toBe(true);
  });

  it('outputObject: the event is published while the output object is not yet in OSS; the object lands the delay after it', async () => {
    const { cloud, ecs, oss } = await start({ outputObject: { kind: 'fixed', ms: 2000 } });
    await oss.putBucket(BUCKET);
    const atEvent: { publishedAt: number; listed: number; status: string }[] = [];
    let invokeId = '';
    const unsubscribe = cloud.ecs.events.subscribe(async (e) => {
      // What a consumer sees the moment the event arrives.
      const listed = (await oss.list({ prefix: 'runs/', 'max-keys': 10 }, {})).objects ?? [];
      const results = await ecs.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId: e.data.invokeId }));
      atEvent.push({ publishedAt: Date.parse(e.aliyunpublishtime), listed: listed.length, status: results.body.invocation.invocationResults.invocationResult[0].ossOutputStatus });
    });

    const run = await ecs.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo delivered late', instanceId: [IDS.web1], ossOutputDelivery: `oss://${BUCKET}/runs/` }));
    invokeId = run.body.invokeId;
    const seen = await until(() => atEvent[0], 'the event');
    expect(seen.listed).toBe(0);
    expect(seen.status).toBe('InProgress');

    const landed = await until(async () => {
      const objects = (await oss.list({ prefix: 'runs/', 'max-keys': 10 }, {})).objects ?? [];
      return objects.length > 0 ? { name: objects[0]!.name, at: Date.now() } : undefined;
    }, 'the output object');
    unsubscribe();
    expect(landed.at - seen.publishedAt).toBeGreaterThanOrEqual(2000);
    expect((await oss.get(landed.name)).content.toString()).toBe('delivered late\n');
    const after = await ecs.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId }));
    const result = after.body.invocation.invocationResults.invocationResult[0];
    expect([result.ossOutputStatus, result.ossOutputUri]).toEqual(['Finished', `oss://${BUCKET}/${landed.name}`]);
  });

  it('refuses a distribution that makes no sense before anything starts', async () => {
    await expect(start({ outputObject: { kind: 'uniform', minMs: 5, maxMs: 1 } })).rejects.toThrow(/not a delay distribution.*minMs must not exceed maxMs/);
  });
});
