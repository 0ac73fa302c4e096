/**
 * The local cloud creates what s.yaml's ros stacks declare, and nothing else: seen through the
 * official SDKs as a deployed function would see it — the buckets private with their expiry rules
 * (and a run's objects really expiring), the queues with the declared attributes, the role with
 * its policy, Cloud Assistant's service-linked role.
 */
import MNS from '@alicloud/mns';
import OSS from 'ali-oss';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../../local/local-cloud.ts';
import { parsePolicy } from '../../local/ram/policy.ts';

const KEY = { id: 'LTAI5tDeployTest', secret: 'deploy-test-secret' };
const ACCOUNT = '1234567890123456';
/** One lifecycle day of the local OSS, in ms: a run two "days" old is gone within a second. */
const DAY_MS = 200;

let cloud: LocalCloud;
let oss: OSS;
let mns: MNS;
const lines: string[] = [];

beforeAll(async () => {
  const before = process.env.FLEETRUN_RUN_RETENTION_DAYS;
  // The deploying shell's retention, as `s deploy` would pass it to the stack.
  process.env.FLEETRUN_RUN_RETENTION_DAYS = '2';
  try {
    cloud = await startLocalCloud({
      fleet: [],
      accessKeys: { [KEY.id]: KEY.secret },
      accountId: ACCOUNT,
      sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
      timers: false,
      ossLifecycle: { dayMs: DAY_MS, sweepMs: 50 },
      log: (l) => lines.push(l),
    });
  } finally {
    if (before === undefined) delete process.env.FLEETRUN_RUN_RETENTION_DAYS;
    else process.env.FLEETRUN_RUN_RETENTION_DAYS = before;
  }
  oss = new OSS({ region: 'oss-cn-hangzhou', accessKeyId: KEY.id, accessKeySecret: KEY.secret, endpoint: cloud.oss.endpoint, bucket: 'fleetrun-runs' });
  mns = new MNS(ACCOUNT, { accessKeyId: KEY.id, accessKeySecret: KEY.secret, endpoint: cloud.mns.endpoint });
}, 60_000);
afterAll(async () => {
  await cloud?.close();
});

describe('the resources s.yaml declares, in the local cloud', () => {
  it('has exactly the declared buckets, private, with the declared expiry rules', async () => {
    // ali-oss's types say an array; the client resolves { buckets, … }.
    const { buckets } = (await oss.listBuckets({})) as unknown as { buckets: { name: string }[] };
    expect(buckets.map((b) => b.name).sort()).toEqual(['fleetrun-output', 'fleetrun-runs']);
    for (const bucket of ['fleetrun-runs', 'fleetrun-output']) {
      const info = await oss.getBucketInfo(bucket);
      expect(info.bucket.AccessControlList.Grant, bucket).toBe('private');
    }
    const rule = (prefix: string, days: string) => expect.objectContaining({ prefix, status: 'Enabled', expiration: expect.objectContaining({ days }) });
    expect((await oss.getBucketLifecycle('fleetrun-runs')).rules).toEqual([rule('runs/', '2'), rule('chat/seen/', '1')]);
    expect((await oss.getBucketLifecycle('fleetrun-output')).rules).toEqual([rule('fleetrun-output/', '2')]);
  });

  it('deletes a run once it is older than the retention, and replay markers after a day; keeps what is under neither', async () => {
    await oss.put('runs/r-old/manifest.json', Buffer.from('{}'));
    await oss.put('chat/seen/0123abcd', Buffer.from(''));
    await oss.put('schedule/state.json', Buffer.from('{}'));
    const left = async () => [...((await oss.list({ prefix: 'runs/', 'max-keys': 10 }, {})).objects ?? []), ...((await oss.list({ prefix: 'chat/', 'max-keys': 10 }, {})).objects ?? [])];
    const deadline = Date.now() + 20 * DAY_MS + 5_000;
    while (Date.now() < deadline && (await left()).length > 0) await new Promise((r) => setTimeout(r, DAY_MS / 2));
    expect(await left()).toEqual([]);
    expect((await oss.get('schedule/state.json')).content.toString()).toBe('{}');
  }, 30_000);

  it('has the results queue and its dead-letter queue with the declared attributes', async () => {
    const names = (await mns.listQueue()).body!.map((q) => q.QueueURL!.split('/').pop()).sort();
    expect(names).toEqual(['fleetrun-results', 'fleetrun-results-dlq']);
    expect((await mns.getQueueAttributes('fleetrun-results-dlq')).body.MessageRetentionPeriod).toBe('604800');
    expect((await mns.getQueueAttributes('fleetrun-results')).body.MessageRetentionPeriod).toBe('345600');
  });

  it("gives the functions' role the policy file and the trust policy the stack names, and Cloud Assistant its service-linked role", async () => {
    const policy = parsePolicy(JSON.parse(await readFile(path.join(PROJECT_ROOT, 'deploy/ram-policy.json'), 'utf8')), 'x');
    expect(cloud.ram!.policiesOf('fleetrun-fc-role')!.map((p) => p.statements)).toEqual([policy.statements]);
    expect(() => cloud.ram!.credentialsFor('fleetrun-fc-role', 'fc.aliyuncs.com')).not.toThrow();
    expect(() => cloud.ram!.credentialsFor('fleetrun-fc-role', 'ecs.aliyuncs.com')).toThrow(/does not trust ecs\.aliyuncs\.com/);
    expect(cloud.ecs.serviceLinkedRole.state).toBe('exists');
    expect(cloud.resources.serviceLinkedRoles).toEqual(['archiving.ecs.aliyuncs.com']);
  });
});
