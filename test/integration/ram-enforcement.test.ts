/**
 * RAM enforced by each local service, through the official SDKs with a role's STS key: what the
 * role's policy allows passes, anything else gets the service's own access-denied answer, and the
 * account's own keys stay unrestricted.
 */
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import FC from '@alicloud/fc2';
import MNS from '@alicloud/mns';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsyncInvocationLog } from '../../local/fc/async-invocations.ts';
import { startInvokeApi, type InvokeApi } from '../../local/fc/invoke-api.ts';
import { PROJECT_ROOT, startLocalCloud } from '../../local/local-cloud.ts';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns/server.ts';
import { startOssEmulator, type OssEmulator } from '../../local/oss/server.ts';
import { loadSYaml } from '../../local/fc/s-yaml.ts';
import { deployedRoles } from '../../local/ram/deployment.ts';
import { RamIdentities, type RoleCredentials } from '../../local/ram/identities.ts';
import { ACCESS_KEY_ID, IDS, Models, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

const ACCOUNT = '1234567890123456';
const ROLE = `acs:ram::${ACCOUNT}:role/fleetrun-test-role`;
const USER_KEY = { id: 'LTAI5tRamUser', secret: 'ram-user-secret' };
/** A role with the deployment's own policy (s.yaml's stack: deploy/ram-policy.json), and one scoped to one instance and one command. */
const DEPLOYED_ROLE = `acs:ram::${ACCOUNT}:role/fleetrun-fc-role`;
const SCOPED_ROLE = `acs:ram::${ACCOUNT}:role/one-instance-role`;
/** The region deploy/ram-policy.json scopes ECS to (s.yaml's region), and another. */
const POLICY_REGION = 'cn-hangzhou';
const OTHER_REGION = 'cn-shanghai';
/** CreateCommand takes its content Base64-encoded. */
const B64 = (script: string) => Buffer.from(script).toString('base64');

const POLICY = {
  Version: '1',
  Statement: [
    { Effect: 'Allow', Action: ['ecs:DescribeInvocations'], Resource: '*' },
    { Effect: 'Allow', Action: ['ecs:RunCommand'], Resource: `acs:ecs:*:*:instance/${IDS.web1}` },
    { Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: 'acs:oss:*:*:allowed-bucket/runs/*' },
    { Effect: 'Allow', Action: ['oss:ListObjects'], Resource: 'acs:oss:*:*:allowed-bucket', Condition: { StringLike: { 'oss:Prefix': 'runs/*' } } },
    { Effect: 'Deny', Action: ['oss:GetObject'], Resource: 'acs:oss:*:*:allowed-bucket/runs/secret*' },
    { Effect: 'Allow', Action: ['mns:SendMessage'], Resource: 'acs:mns:cn-hangzhou:*:/queues/results/messages' },
    { Effect: 'Allow', Action: ['fc:InvokeFunction'], Resource: 'acs:fc:cn-hangzhou:*:functions/allowed-fn' },
  ],
};

/** What an SDK promise rejects with; fails the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, any>;
  }
  throw new Error('expected the call to be refused');
}

let ram: RamIdentities;
let role: RoleCredentials;
let dataDir: string;
let ecs: TestCloud;
let ecsElsewhere: TestCloud;
let oss: OssEmulator;
let mns: MnsEmulator;
let fc: InvokeApi;

beforeAll(async () => {
  const keys: Record<string, string> = { [USER_KEY.id]: USER_KEY.secret, [ACCESS_KEY_ID]: 'fleetrun-test-secret' };
  ram = new RamIdentities({ accountId: ACCOUNT, keys });
  ram.setPolicies(ROLE, [{ document: POLICY, source: 'test policy' }]);
  role = ram.credentialsFor(ROLE);
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-ram-'));
  ecs = await startTestCloud({ accessKeys: keys, accountId: ACCOUNT, authorize: ram.authorize });
  // The same fleet in a region the deployed policy does not name, judged by the same RAM.
  ecsElsewhere = await startTestCloud({ accessKeys: keys, accountId: ACCOUNT, regionId: OTHER_REGION, authorize: ram.authorize });
  oss = await startOssEmulator({ accessKeys: keys, dataDir: path.join(dataDir, 'oss'), buckets: ['allowed-bucket', 'other-bucket'], accountId: ACCOUNT, authorize: ram.authorize });
  mns = await startMnsEmulator({ accessKeys: keys, dataDir: path.join(dataDir, 'mns'), accountId: ACCOUNT, queues: [{ name: 'results' }, { name: 'other' }], authorize: ram.authorize });
  // The InvokeFunction API alone: what it invokes is a stand-in that answers with the function's name.
  fc = await startInvokeApi({
    port: 0,
    accessKeys: keys,
    hasFunction: (name) => ['allowed-fn', 'other-fn'].includes(name),
    fc2Services: { svc: ['allowed-fn', 'other-fn'] },
    functionArn: (name) => `acs:fc:cn-hangzhou:${ACCOUNT}:functions/${name}`,
    authorize: ram.authorize,
    invoke: async (name) => ({ invoked: name }),
    maxAsyncRetries: () => 0,
    asyncInvocations: new AsyncInvocationLog(),
    log: () => {},
  });
});

afterAll(async () => {
  await Promise.allSettled([ecs?.close(), ecsElsewhere?.close(), oss?.close(), mns?.close(), fc?.close()]);
  await rm(dataDir, { recursive: true, force: true });
});

describe('ECS with a role key', () => {
  const roleClient = () => ecs.newClient({ accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken });
  const runOn = (instanceIds: string[]) =>
    new Models.RunCommandRequest({ regionId: 'cn-hangzhou', type: 'RunShellScript', commandContent: 'echo hi', instanceId: instanceIds });

  it('passes what the policy allows: DescribeInvocations, RunCommand on the allowed instance', async () => {
    const client = roleClient();
    await expect(client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: 'cn-hangzhou' }))).resolves.toBeDefined();
    const ran = await client.runCommand(runOn([IDS.web1]));
    expect(ran.body.invokeId).toMatch(/^t-/);
  });

  it('answers Forbidden.RAM 403 to another action, and to a RunCommand that includes an instance the policy does not name', async () => {
    const client = roleClient();
    const other = await rejection(client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: 'cn-hangzhou' })));
    expect(other).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(other.message).toMatch(/Forbidden\.RAM/);
    const mixed = await rejection(client.runCommand(runOn([IDS.web1, IDS.web2])));
    expect(mixed).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(mixed.message).toContain(`instance/${IDS.web2}`);
  });

  it('leaves the account key unrestricted', async () => {
    await expect(ecs.client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: 'cn-hangzhou' }))).resolves.toBeDefined();
  });
});

describe('ECS with the deployed policy: scoped to its region\'s instances and commands', () => {
  const clientOf = (cloud: TestCloud, role: RoleCredentials, regionId: string) =>
    cloud.newClient({ accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken, regionId });
  let deployed: RoleCredentials;
  beforeAll(async () => {
    const sYaml = await loadSYaml(path.join(PROJECT_ROOT, 's.yaml'), { env: { FLEETRUN_SEAL_KEY: 'a-seal-key-for-the-test-0123456789' }, config: { AccountID: ACCOUNT } });
    ram.setPolicies(DEPLOYED_ROLE, deployedRoles(sYaml)['fleetrun-fc-role']!.policies);
    deployed = ram.credentialsFor(DEPLOYED_ROLE);
  });

  it('lets every Cloud Assistant call fleetrun makes through in the policy\'s region', async () => {
    const client = clientOf(ecs, deployed, POLICY_REGION);
    const regionId = POLICY_REGION;
    expect((await client.describeInstances(new Models.DescribeInstancesRequest({ regionId, instanceIds: JSON.stringify([IDS.web1]) }))).body.instances.instance).toHaveLength(1);
    await expect(client.describeCloudAssistantStatus(new Models.DescribeCloudAssistantStatusRequest({ regionId, instanceId: [IDS.web1] }))).resolves.toBeDefined();
    const ran = await client.runCommand(new Models.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1, IDS.web2] }));
    expect(ran.body.invokeId).toMatch(/^t-/);
    const created = await client.createCommand(new Models.CreateCommandRequest({ regionId, name: 'ram-scoped', type: 'RunShellScript', commandContent: B64('echo hi') }));
    const invoked = await client.invokeCommand(new Models.InvokeCommandRequest({ regionId, commandId: created.body.commandId, instanceId: [IDS.web1] }));
    await expect(client.stopInvocation(new Models.StopInvocationRequest({ regionId, invokeId: invoked.body.invokeId }))).resolves.toBeDefined();
    await expect(client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId, invokeId: ran.body.invokeId }))).resolves.toBeDefined();
    await expect(client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId, invokeId: ran.body.invokeId }))).resolves.toBeDefined();
  });

  it('refuses the same calls on the same fleet in another region with Forbidden.RAM, naming that region\'s ARN', async () => {
    const client = clientOf(ecsElsewhere, deployed, OTHER_REGION);
    const regionId = OTHER_REGION;
    // A command that exists there, made with the account's own key, so InvokeCommand is refused for RAM and nothing else.
    const own = await ecsElsewhere.client.createCommand(new Models.CreateCommandRequest({ regionId, name: 'elsewhere', type: 'RunShellScript', commandContent: B64('echo hi') }));
    const calls: [string, Promise<unknown>][] = [
      ['RunCommand', client.runCommand(new Models.RunCommandRequest({ regionId, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1] }))],
      ['InvokeCommand', client.invokeCommand(new Models.InvokeCommandRequest({ regionId, commandId: own.body.commandId, instanceId: [IDS.web1] }))],
      ['CreateCommand', client.createCommand(new Models.CreateCommandRequest({ regionId, name: 'x', type: 'RunShellScript', commandContent: B64('echo hi') }))],
      ['DescribeInstances', client.describeInstances(new Models.DescribeInstancesRequest({ regionId }))],
      ['DescribeCloudAssistantStatus', client.describeCloudAssistantStatus(new Models.DescribeCloudAssistantStatusRequest({ regionId, instanceId: [IDS.web1] }))],
    ];
    for (const [action, call] of calls) {
      const e = await rejection(call);
      expect(e, action).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
      expect(e.message, action).toContain(`ecs:${action} on acs:ecs:${OTHER_REGION}:${ACCOUNT}:`);
    }
    expect(ecsElsewhere.emulator.service.invocations.size).toBe(0);
  });

  it('a policy scoped to one instance and one command refuses the others', async () => {
    const kept = await ecs.client.createCommand(new Models.CreateCommandRequest({ regionId: POLICY_REGION, name: 'kept', type: 'RunShellScript', commandContent: B64('echo kept') }));
    const other = await ecs.client.createCommand(new Models.CreateCommandRequest({ regionId: POLICY_REGION, name: 'other', type: 'RunShellScript', commandContent: B64('echo other') }));
    ram.setPolicies(SCOPED_ROLE, [
      {
        document: {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'ecs:InvokeCommand', Resource: [`acs:ecs:${POLICY_REGION}:*:instance/${IDS.web1}`, `acs:ecs:${POLICY_REGION}:*:command/${kept.body.commandId}`] }],
        },
        source: 'one instance, one command',
      },
    ]);
    const client = clientOf(ecs, ram.credentialsFor(SCOPED_ROLE), POLICY_REGION);
    const invoke = (commandId: string, instanceId: string) => client.invokeCommand(new Models.InvokeCommandRequest({ regionId: POLICY_REGION, commandId, instanceId: [instanceId] }));
    expect((await invoke(kept.body.commandId, IDS.web1)).body.invokeId).toMatch(/^t-/);
    const otherCommand = await rejection(invoke(other.body.commandId, IDS.web1));
    expect(otherCommand).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(otherCommand.message).toContain(`command/${other.body.commandId}`);
    const otherInstance = await rejection(invoke(kept.body.commandId, IDS.web2));
    expect(otherInstance).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
    expect(otherInstance.message).toContain(`instance/${IDS.web2}`);
  });
});

describe('OSS with a role key', () => {
  const client = (bucket: string) =>
    new OSS({ region: oss.region, accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, stsToken: role.securityToken, bucket, endpoint: oss.endpoint });

  /** ali-oss will not sign for an IP endpoint: sign path-style for localhost and send it to the IP, as AliOssStore does. */
  const presign = (bucket: string, key: string) => {
    const signer = new OSS({ region: oss.region, accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, stsToken: role.securityToken, bucket, endpoint: oss.endpoint.replace('127.0.0.1', 'localhost'), sldEnable: true } as OSS.Options);
    const url = new URL(signer.signatureUrl(key, { expires: 60 }));
    url.hostname = '127.0.0.1';
    return url.toString();
  };

  it('passes allowed object operations, listing under the allowed prefix, and a presigned URL for an allowed object', async () => {
    const c = client('allowed-bucket');
    await c.put('runs/r1/manifest.json', Buffer.from('{}'));
    expect((await c.get('runs/r1/manifest.json')).content.toString()).toBe('{}');
    expect((await c.head('runs/r1/manifest.json')).status).toBe(200);
    const listed = await c.list({ prefix: 'runs/r1/', 'max-keys': 10 }, {});
    expect(listed.objects?.map((o) => o.name)).toEqual(['runs/r1/manifest.json']);
    const answer = await fetch(presign('allowed-bucket', 'runs/r1/manifest.json'));
    expect(answer.status).toBe(200);
  });

  it('answers AccessDenied 403 to another action, another bucket, a listing outside the prefix, an explicitly denied key, and a presigned URL for the denied key', async () => {
    const c = client('allowed-bucket');
    await c.put('runs/secret.txt', Buffer.from('s'));
    for (const refused of [
      c.delete('runs/r1/manifest.json'),
      client('other-bucket').put('runs/x', Buffer.from('x')),
      c.list({ prefix: 'elsewhere/', 'max-keys': 10 }, {}),
      c.get('runs/secret.txt'),
    ]) {
      const e = await rejection(refused);
      expect(e).toMatchObject({ code: 'AccessDenied', status: 403 });
    }
    const presigned = await fetch(presign('allowed-bucket', 'runs/secret.txt'));
    expect(presigned.status).toBe(403);
    expect(await presigned.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('answers AccessDenied 403 to PutBucketLifecycle on a bucket the role may write objects to, asking oss:PutBucketLifecycle', async () => {
    const rules = [{ id: 'tmp', prefix: 'runs/tmp/', status: 'Enabled', expiration: { days: 1 } }];
    const put = (client('allowed-bucket') as unknown as { putBucketLifecycle(b: string, r: typeof rules): Promise<unknown> }).putBucketLifecycle('allowed-bucket', rules);
    const e = await rejection(put);
    expect(e).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(ram.denials.at(-1)).toMatchObject({ action: 'oss:PutBucketLifecycle', resources: [`acs:oss:*:${ACCOUNT}:allowed-bucket`] });
  });

  it('leaves the account key unrestricted', async () => {
    const own = new OSS({ region: oss.region, accessKeyId: USER_KEY.id, accessKeySecret: USER_KEY.secret, bucket: 'other-bucket', endpoint: oss.endpoint });
    await expect(own.put('anything', Buffer.from('x'))).resolves.toBeDefined();
  });
});

describe('MNS with a role key', () => {
  const client = () => new MNS(ACCOUNT, { accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken, endpoint: mns.endpoint });

  it('passes SendMessage and BatchSendMessage to the allowed queue (both are mns:SendMessage)', async () => {
    await expect(client().sendMessage('results', { MessageBody: 'hello' })).resolves.toBeDefined();
    await expect(client().batchSendMessage('results', [{ MessageBody: 'a' }, { MessageBody: 'b' }])).resolves.toBeDefined();
  });

  it('answers AccessDenied 403 to another queue and to another action', async () => {
    for (const refused of [client().sendMessage('other', { MessageBody: 'x' }), client().receiveMessage('results', 0)]) {
      const e = await rejection(refused);
      expect(e.name).toBe('MNSAccessDeniedError');
      expect(e.message).toMatch(/not authorized/);
    }
  });

  it('leaves the account key unrestricted', async () => {
    const own = new MNS(ACCOUNT, { accessKeyId: USER_KEY.id, accessKeySecret: USER_KEY.secret, endpoint: mns.endpoint });
    await expect(own.sendMessage('other', { MessageBody: 'x' })).resolves.toBeDefined();
  });
});

describe('FC with a role key', () => {
  const client = () => new FC(ACCOUNT, { accessKeyID: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken, region: 'cn-hangzhou', endpoint: fc.endpoint });

  it('passes InvokeFunction on the allowed function', async () => {
    const res = await client().invokeFunction('svc', 'allowed-fn', '{}');
    expect(typeof res.data === 'string' ? JSON.parse(res.data) : res.data).toEqual({ invoked: 'allowed-fn' });
  });

  it('answers AccessDenied 403 to another function', async () => {
    const e = await rejection(client().invokeFunction('svc', 'other-fn', '{}'));
    expect(e).toMatchObject({ code: 'AccessDenied' });
    expect(e.message).toMatch(/fc:InvokeFunction/);
  });

  it('leaves the account key unrestricted', async () => {
    const own = new FC(ACCOUNT, { accessKeyID: USER_KEY.id, accessKeySecret: USER_KEY.secret, region: 'cn-hangzhou', endpoint: fc.endpoint });
    await expect(own.invokeFunction('svc', 'other-fn', '{}')).resolves.toBeDefined();
  });
});

describe('the local cloud', () => {
  /** A copy of the deployment (s.yaml and deploy/) to change, with the functions' sources linked in. */
  async function deploymentCopy(change: { sYaml?: (text: string) => string; trustPolicy?: object }): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-deployment-'));
    await cp(path.join(PROJECT_ROOT, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
    await symlink(path.join(PROJECT_ROOT, 'functions'), path.join(dir, 'functions'));
    const text = await readFile(path.join(PROJECT_ROOT, 's.yaml'), 'utf8');
    await writeFile(path.join(dir, 's.yaml'), change.sYaml ? change.sYaml(text) : text);
    if (change.trustPolicy) await writeFile(path.join(dir, 'deploy/ram-trust-policy.json'), JSON.stringify(change.trustPolicy));
    return dir;
  }
  const start = (dir: string) => startLocalCloud({ fleet: [], accessKeys: { [USER_KEY.id]: USER_KEY.secret }, sYamlPath: path.join(dir, 's.yaml'), timers: false });

  it('refuses to start a function whose role the stacks do not declare, naming the function and the role', async () => {
    const dir = await deploymentCopy({ sYaml: (t) => t.replace('role: ${resources.cloud.output.RoleArn}', "role: acs:ram::${config('AccountID')}:role/not-declared") });
    try {
      await expect(start(dir)).rejects.toThrow(/function fleetrun-chatops: role acs:ram::\d+:role\/not-declared .*"not-declared" does not exist in the local cloud \(its roles: fleetrun-fc-role\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses to start the functions when the role does not trust FC, as STS refuses FC the role', async () => {
    const dir = await deploymentCopy({ trustPolicy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } }] } });
    try {
      await expect(start(dir)).rejects.toThrow(/role acs:ram::\d+:role\/fleetrun-fc-role .*"fleetrun-fc-role" does not trust fc\.aliyuncs\.com/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
