/**
 * OssOutputDelivery's refusals (seed 001's error table) through the official ECS SDK, and the
 * library riding out the service-linked role's creation. The bucket answers come from an
 * OutputDelivery over a real local OSS store; RAM is a small policy function standing in for the
 * local RAM: it lets only the key `SLR_MAKER` create Cloud Assistant's archiving role.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, Authorize } from '../../local/ram/access.ts';
import { DiskObjectStore } from '../../local/oss/store.ts';
import type { OutputDelivery } from '../../local/ecs/output-delivery.ts';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, IDS, Models, REGION, sdkError, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

const ACCOUNT = '1234567890123456';
const SLR_MAKER = { id: 'LTAI5tSlrMaker', secret: 'slr-maker-secret' };

let dataDir: string;
let store: DiskObjectStore;
const asked: AccessRequest[] = [];

/** Only SLR_MAKER may create the archiving role, and only that one (the ram:ServiceName condition). */
const authorize: Authorize = (request) => {
  if (request.action !== 'ram:CreateServiceLinkedRole') return { allowed: true };
  asked.push(request);
  const mayCreate = request.accessKeyId === SLR_MAKER.id && request.context?.['ram:ServiceName'] === 'archiving.ecs.aliyuncs.com';
  return mayCreate ? { allowed: true } : { allowed: false, reason: 'no statement allows ram:CreateServiceLinkedRole' };
};

function deliveryTo(s: DiskObjectStore): OutputDelivery {
  return {
    async bucketInfo(bucket) {
      const info = s.bucketInfo(bucket);
      return info && { region: info.region.replace(/^oss-/, ''), ownerAccountId: info.ownerAccountId };
    },
    async put(bucket, key, body) {
      await s.put(bucket, key, typeof body === 'string' ? Buffer.from(body) : body, { contentType: 'text/plain' });
    },
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-delivery-errors-'));
  store = await DiskObjectStore.open(dataDir, { fsync: false, bucketDefaults: { region: `oss-${REGION}`, ownerAccountId: ACCOUNT } });
  await store.createBucket('outputs-here');
  await store.createBucket('outputs-beijing', { region: 'oss-cn-beijing' });
  await store.createBucket('outputs-theirs', { ownerAccountId: '9999888877776666' });
});
afterAll(async () => {
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function cloudWith(options: { slrExists?: boolean; slrCreationSeconds?: number }): Promise<TestCloud> {
  return startTestCloud({
    accountId: ACCOUNT,
    accessKeys: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET, [SLR_MAKER.id]: SLR_MAKER.secret },
    outputDelivery: deliveryTo(store),
    authorize,
    ...options,
  });
}

const runWith = (client: any, bucket: string) =>
  client.runCommand(
    new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo delivered', instanceId: [IDS.web1], ossOutputDelivery: `oss://${bucket}/runs/` }),
  );
const invokeWith = (client: any, commandId: string, bucket: string) =>
  client.invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, commandId, instanceId: [IDS.web1], ossOutputDelivery: `oss://${bucket}/runs/` }));

function expectError(err: any, code: string, status: number): void {
  expect(err, `expected ${code}`).toBeInstanceOf(Error);
  expect({ code: err.code, statusCode: err.statusCode, bodyCode: err.data?.Code }).toEqual({ code, statusCode: status, bodyCode: code });
}

describe('with the service-linked role in place', () => {
  let cloud: TestCloud;
  let commandId: string;
  beforeAll(async () => {
    cloud = await cloudWith({ slrExists: true });
    const created = await cloud.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 'deliver', type: 'RunShellScript', commandContent: Buffer.from('echo hi').toString('base64') }),
    );
    commandId = created.body.commandId;
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('InvalidOssOutputDelivery.BucketNotFound (404) for a bucket that does not exist', async () => {
    const before = cloud.emulator.service.invocations.size;
    expectError(await sdkError(runWith(cloud.client, 'no-such-bucket')), 'InvalidOssOutputDelivery.BucketNotFound', 404);
    expectError(await sdkError(invokeWith(cloud.client, commandId, 'no-such-bucket')), 'InvalidOssOutputDelivery.BucketNotFound', 404);
    expect(cloud.emulator.service.invocations.size).toBe(before);
  });

  it('InvalidOssOutputDelivery.BucketInOtherRegion (400) for a bucket outside the instances’ region', async () => {
    const err = await sdkError(runWith(cloud.client, 'outputs-beijing'));
    expectError(err, 'InvalidOssOutputDelivery.BucketInOtherRegion', 400);
    expect(err.data.Message).toContain('is in another region');
    expectError(await sdkError(invokeWith(cloud.client, commandId, 'outputs-beijing')), 'InvalidOssOutputDelivery.BucketInOtherRegion', 400);
  });

  it('InvalidOssOutputDelivery.BucketAccessDenied (403) carrying OSS’s own message for another account’s bucket', async () => {
    const err = await sdkError(runWith(cloud.client, 'outputs-theirs'));
    expectError(err, 'InvalidOssOutputDelivery.BucketAccessDenied', 403);
    expect(err.data.Message).toBe('The error message returned by the OSS API is: The bucket you access does not belong to you.');
    expectError(await sdkError(invokeWith(cloud.client, commandId, 'outputs-theirs')), 'InvalidOssOutputDelivery.BucketAccessDenied', 403);
  });

  it('a bucket of the caller in the region is accepted and the output lands in it', async () => {
    const { body } = await runWith(cloud.client, 'outputs-here');
    await cloud.waitForFinal(body.invokeId);
    const keys = store.list('outputs-here', 'runs/');
    expect(keys.some((k) => k.includes(body.invokeId))).toBe(true);
    // The role existed: nobody was asked to create it.
    expect(asked).toEqual([]);
  });
});

describe('without the service-linked role', () => {
  it('CreateServiceLinkedRole.NoPermission (403) for a caller RAM does not let create the role, asked with the role’s service name', async () => {
    const cloud = await cloudWith({ slrExists: false, slrCreationSeconds: 60 });
    try {
      asked.length = 0;
      const err = await sdkError(runWith(cloud.client, 'outputs-here'));
      expectError(err, 'CreateServiceLinkedRole.NoPermission', 403);
      expect(asked).toEqual([
        {
          accessKeyId: ACCESS_KEY_ID,
          action: 'ram:CreateServiceLinkedRole',
          resources: [`acs:ram:*:${ACCOUNT}:role/*`],
          context: { 'ram:ServiceName': 'archiving.ecs.aliyuncs.com' },
        },
      ]);
      // Nothing started creating it: the next refused caller is refused the same way, not told to wait.
      expectError(await sdkError(runWith(cloud.client, 'outputs-here')), 'CreateServiceLinkedRole.NoPermission', 403);
      // A call without OssOutputDelivery needs no role.
      const plain = await cloud.client.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo plain', instanceId: [IDS.web1] }));
      expect(plain.body.invokeId).toMatch(/^t-/);
    } finally {
      await cloud.close();
    }
  });

  it('ResourceBusy.SlrCreation (400) for every delivery while the role is being created, whoever asks', async () => {
    const cloud = await cloudWith({ slrExists: false, slrCreationSeconds: 60 });
    try {
      const maker = cloud.newClient({ accessKeyId: SLR_MAKER.id, accessKeySecret: SLR_MAKER.secret });
      const before = cloud.emulator.service.invocations.size;
      expectError(await sdkError(runWith(maker, 'outputs-here')), 'ResourceBusy.SlrCreation', 400);
      expectError(await sdkError(runWith(maker, 'outputs-here')), 'ResourceBusy.SlrCreation', 400);
      // Once creation has started, a caller who could not have started it waits like everyone else.
      expectError(await sdkError(runWith(cloud.client, 'outputs-here')), 'ResourceBusy.SlrCreation', 400);
      expect(cloud.emulator.service.invocations.size).toBe(before);
    } finally {
      await cloud.close();
    }
  });

  it('the library (EcsCloudAssistant) retries ResourceBusy.SlrCreation until the role exists, and the run starts once', async () => {
    const cloud = await cloudWith({ slrExists: false, slrCreationSeconds: 1 });
    try {
      const retries: string[] = [];
      const assistant = await EcsCloudAssistant.create({
        regionId: REGION,
        endpoint: cloud.emulator.endpoint,
        protocol: 'http',
        credentials: { accessKeyId: SLR_MAKER.id, accessKeySecret: SLR_MAKER.secret },
        readTimeoutMs: 10_000,
        retry: { slrCreationBaseDelayMs: 400, onRetry: ({ code }) => void retries.push(code) },
      });
      const started = Date.now();
      const { invokeId } = await assistant.runCommand({
        RegionId: REGION,
        Type: 'RunShellScript',
        CommandContent: 'echo after the role',
        InstanceId: [IDS.web1],
        OssOutputDelivery: 'oss://outputs-here/slr/',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(new Set(retries)).toEqual(new Set(['ResourceBusy.SlrCreation']));
      expect([...cloud.emulator.service.invocations.keys()]).toEqual([invokeId]);
      await cloud.waitForFinal(invokeId);
      expect(store.list('outputs-here', 'slr/').some((k) => k.includes(invokeId))).toBe(true);
    } finally {
      await cloud.close();
    }
  }, 30_000);
});
