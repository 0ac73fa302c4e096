/**
 * Behaviours the seeds give that the local Cloud Assistant once lacked, and the checks no seed
 * gives, which it makes only when started with them (requests/unseeded-checks.ts), all through
 * the official `@alicloud/ecs20140526` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, IDS, Models, REGION, sdkError, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud;
let strict: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud();
  strict = await startTestCloud({
    unseededChecks: { minTimeoutSeconds: 10, maxTimeoutSeconds: 86_400, stopInvocationInstances: 50, invokeCommandResourceTags: 10, dockerContainerNames: true, workingDirControlCharacters: true },
  });
}, 60_000);
afterAll(async () => {
  await cloud?.close();
  await strict?.close();
});

const runOn = (c: TestCloud, o: Record<string, unknown>) =>
  c.client.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1], ...o }));
const createOn = async (c: TestCloud, o: Record<string, unknown> = {}): Promise<string> =>
  (await c.client.createCommand(new Models.CreateCommandRequest({ regionId: REGION, name: 'seeds', type: 'RunShellScript', commandContent: b64('echo hi'), ...o }))).body.commandId;
const invokeOn = (c: TestCloud, o: Record<string, unknown>) => c.client.invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, instanceId: [IDS.web1], ...o }));

function expectCode(err: any, code: string, status: number): void {
  expect({ code: err?.code, statusCode: err?.statusCode, body: err?.data?.Code }).toEqual({ code, statusCode: status, body: code });
}

describe('WindowsPasswordName.Missed (seeds 000 and 001)', () => {
  it('InvokeCommand of a RunBatScript or RunPowerShellScript command as a user without WindowsPasswordName: 403 (seed 000)', async () => {
    for (const type of ['RunBatScript', 'RunPowerShellScript']) {
      const commandId = await createOn(cloud, { type, commandContent: b64('echo %USERNAME%') });
      const before = cloud.emulator.service.invocations.size;
      const err = await sdkError(invokeOn(cloud, { commandId, instanceId: [IDS.windows], username: 'deploy' }));
      expectCode(err, 'WindowsPasswordName.Missed', 403);
      expect(err.data.Message).toMatch(/^WindowsPasswordName must be specified when you create a Windows task\./);
      expect(cloud.emulator.service.invocations.size).toBe(before);
    }
  });

  it('InvokeCommand of a Windows command runs with a WindowsPasswordName, as System, or with no Username', async () => {
    const commandId = await createOn(cloud, { type: 'RunBatScript', commandContent: b64('echo hi') });
    for (const runAs of [{ username: 'deploy', windowsPasswordName: 'axtSecretPassword' }, { username: 'System' }, { username: 'system' }, {}]) {
      const { body } = await invokeOn(cloud, { commandId, instanceId: [IDS.windows], ...runAs });
      expect(body.invokeId, JSON.stringify(runAs)).toMatch(/^t-/);
    }
  });

  it('a shell command needs no WindowsPasswordName whatever the Username', async () => {
    const commandId = await createOn(cloud);
    const { body } = await invokeOn(cloud, { commandId, username: 'deploy' });
    expect(body.invokeId).toMatch(/^t-/);
  });

  it('RunCommand answers the same code with 400 (seed 001)', async () => {
    expectCode(await sdkError(runOn(cloud, { type: 'RunPowerShellScript', instanceId: [IDS.windows], username: 'deploy' })), 'WindowsPasswordName.Missed', 400);
    const { body } = await runOn(cloud, { type: 'RunPowerShellScript', instanceId: [IDS.windows], username: 'deploy', windowsPasswordName: 'axtSecretPassword' });
    expect(body.invokeId).toMatch(/^t-/);
  });
});

describe('DescribeInvocations Timed (seed 004: whether the task is to be run automatically)', () => {
  const describeByName = async (name: string, timed?: boolean): Promise<string[]> => {
    const { body } = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, commandName: name, timed, maxResults: 50 }));
    return body.invocations.invocation.map((i: any) => `${i.invokeId}:${i.timed}`).sort();
  };

  it('true finds the periodic task, false the one-off, and an absent Timed both; a stopped periodic task is no longer timed', async () => {
    const name = `timed-${Date.now()}`;
    const periodic = (await runOn(cloud, { name, repeatMode: 'Period', frequency: 'rate(5m)' })).body.invokeId;
    const once = (await runOn(cloud, { name })).body.invokeId;

    expect(await describeByName(name, true)).toEqual([`${periodic}:true`]);
    expect(await describeByName(name, false)).toEqual([`${once}:false`]);
    expect(await describeByName(name)).toEqual([`${once}:false`, `${periodic}:true`].sort());

    await cloud.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: periodic }));
    expect(await describeByName(name, true)).toEqual([]);
    expect(await describeByName(name, false)).toEqual([`${once}:false`, `${periodic}:false`].sort());
  });

  it('a Timed that is not a boolean is InvalidParameter', async () => {
    // The SDK types Timed as a boolean; a raw request is the only way to send anything else.
    const err = await sdkError(cloud.client.callApi(
      { action: 'DescribeInvocations', version: '2014-05-26', protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' },
      { query: { RegionId: REGION, Timed: 'sometimes' } },
      {},
    ));
    expectCode(err, 'InvalidParameter', 400);
  });
});

describe('checks no seed gives: off by default, on when the local cloud is started with them', () => {
  it('Timeout 5 s and 86401 s are accepted by default; refused with the named options', async () => {
    expect((await runOn(cloud, { timeout: 5 })).body.invokeId).toMatch(/^t-/);
    expect((await runOn(cloud, { timeout: 86_401 })).body.invokeId).toMatch(/^t-/);
    expectCode(await sdkError(runOn(strict, { timeout: 5 })), 'InvalidParameter', 400);
    expectCode(await sdkError(runOn(strict, { timeout: 86_401 })), 'InvalidTimeout.ExceedLimit', 403);
    expect((await runOn(strict, { timeout: 10 })).body.invokeId).toMatch(/^t-/);
  });

  it('a control character in WorkingDir and a non-Docker ContainerName pass the seeds; the options refuse them', async () => {
    expect((await runOn(cloud, { workingDir: '/root/a\nb' })).body.invokeId).toMatch(/^t-/);
    expectCode(await sdkError(runOn(strict, { workingDir: '/root/a\nb' })), 'InvalidParameterCharacter.CommandWorkingDir', 403);
    expect((await runOn(cloud, { containerName: '-bad name' })).body.invokeId).toMatch(/^t-/);
    expectCode(await sdkError(runOn(strict, { containerName: '-bad name' })), 'InvalidContainerName.Malformed', 400);
  });

  it('InvokeCommand ResourceTag and StopInvocation InstanceId counts only with the options', async () => {
    const tags = Array.from({ length: 11 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const commandId = await createOn(cloud);
    expectCode(await sdkError(invokeOn(cloud, { commandId, instanceId: undefined, resourceTag: tags })), 'InvalidResourceTag.InstanceNotFound', 400);
    const strictCommandId = await createOn(strict);
    expectCode(await sdkError(invokeOn(strict, { commandId: strictCommandId, instanceId: undefined, resourceTag: tags })), 'NumberExceed.ResourceTags', 400);

    const ids = Array.from({ length: 51 }, (_, i) => `i-many${String(i).padStart(8, '0')}`);
    const invokeId = (await runOn(cloud, {})).body.invokeId;
    expectCode(await sdkError(cloud.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId, instanceId: ids }))), 'InvalidInstance.NotFound', 404);
    const strictInvokeId = (await runOn(strict, {})).body.invokeId;
    expectCode(await sdkError(strict.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: strictInvokeId, instanceId: ids }))), 'InstanceIds.ExceedLimit', 403);
  });
});
