/**
 * The API errors the seeds document for the Cloud Assistant operations, as the real SDK surfaces
 * them: `err.code`, `err.statusCode`, and a JSON body with Code, Message, RequestId and HostId.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, IDS, Models, REGION, sdkError, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.close();
});

const run = (o: Record<string, unknown>) =>
  cloud.client.runCommand(new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo hi', instanceId: [IDS.web1], ...o }));
const invoke = (o: Record<string, unknown>) => cloud.client.invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, instanceId: [IDS.web1], ...o }));
const create = (o: Record<string, unknown>) =>
  cloud.client.createCommand(new Models.CreateCommandRequest({ regionId: REGION, name: 'errors', type: 'RunShellScript', commandContent: b64('echo hi'), ...o }));

/** Checks the SDK error and the JSON error body the emulator sent. */
function expectApiError(err: any, code: string, status: number): void {
  expect(err, `expected ${code}`).toBeInstanceOf(Error);
  expect({ code: err.code, statusCode: err.statusCode }).toEqual({ code, statusCode: status });
  expect(err.data.Code).toBe(code);
  expect(typeof err.data.Message).toBe('string');
  expect(err.data.Message.length).toBeGreaterThan(0);
  expect(err.data.RequestId).toMatch(/^[0-9A-F-]{36}$/);
  expect(err.requestId).toBe(err.data.RequestId);
  expect(err.data.HostId).toBe(`ecs.${REGION}.aliyuncs.com`);
  expect(err.message).toContain(`code: ${status}`);
}

/** No invocation may have been recorded by a refused call. */
async function expectNothingRan(before: number): Promise<void> {
  expect(cloud.emulator.service.invocations.size).toBe(before);
}

describe('target errors', () => {
  it('InvalidInstance.NotFound for an unknown instance (RunCommand and InvokeCommand)', async () => {
    const before = cloud.emulator.service.invocations.size;
    expectApiError(await sdkError(run({ instanceId: [IDS.web1, 'i-doesnotexist0001'] })), 'InvalidInstance.NotFound', 404);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, instanceId: ['i-doesnotexist0001'] })), 'InvalidInstance.NotFound', 404);
    await expectNothingRan(before);
  });

  it('InvalidInstance.NotMatch when a target is Stopped (the whole call fails)', async () => {
    const before = cloud.emulator.service.invocations.size;
    expectApiError(await sdkError(run({ instanceId: [IDS.web1, IDS.stopped] })), 'InvalidInstance.NotMatch', 400);
    await expectNothingRan(before);
  });

  it('InstanceIds.ExceedLimit above 100 ids for RunCommand and 50 for InvokeCommand', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-many${String(i).padStart(8, '0')}`);
    expectApiError(await sdkError(run({ instanceId: ids(101) })), 'InstanceIds.ExceedLimit', 403);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, instanceId: ids(51) })), 'InstanceIds.ExceedLimit', 403);
    // 100 ids is within RunCommand's limit, so the call gets as far as the unknown ids.
    expectApiError(await sdkError(run({ instanceId: ids(100) })), 'InvalidInstance.NotFound', 404);
  });

  it('MissingParam.InstanceId without InstanceId or ResourceTag', async () => {
    expectApiError(await sdkError(run({ instanceId: undefined })), 'MissingParam.InstanceId', 400);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, instanceId: undefined })), 'MissingParam.InstanceId', 400);
  });
});

describe('content and parameter errors', () => {
  it('CmdContent.ExceedLimit for a ~30 KB script (not a 431 from the HTTP server)', async () => {
    const script = `# ${'x'.repeat(30 * 1024)}\necho big`;
    const err = await sdkError(run({ commandContent: script }));
    expectApiError(err, 'CmdContent.ExceedLimit', 403);
    // Base64-encoded, the same script is ~40 KB of query string: still an API error, not a header overflow.
    expectApiError(await sdkError(run({ commandContent: b64(script), contentEncoding: 'Base64' })), 'CmdContent.ExceedLimit', 403);
    expectApiError(await sdkError(create({ commandContent: b64(script) })), 'CmdContent.ExceedLimit', 403);
  });

  it('accepts a 16 KB script (over the 16 KiB default header limit once base64-encoded and query-escaped)', async () => {
    const script = `# ${'y'.repeat(12 * 1024)}\necho fits`;
    const res = await run({ commandContent: b64(script), contentEncoding: 'Base64' });
    expect(res.body.invokeId).toMatch(/^t-/);
    const [e] = await cloud.waitForFinal(res.body.invokeId);
    expect(e!.data.invocationStatus).toBe('Success');
  });

  it('Parameter.Disabled when Parameters are passed without EnableParameter (RunCommand and InvokeCommand)', async () => {
    expectApiError(await sdkError(run({ commandContent: 'echo {{a}}', parameters: { a: '1' } })), 'Parameter.Disabled', 400);
    const { body } = await create({ commandContent: b64('echo {{a}}') });
    expectApiError(await sdkError(invoke({ commandId: body.commandId, parameters: { a: '1' } })), 'Parameter.Disabled', 400);
  });

  it('ParameterCount.ExceedLimit above 10 parameters', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `p${i}`);
    const content = names.map((n) => `echo {{${n}}}`).join('\n');
    const parameters = Object.fromEntries(names.map((n) => [n, 'v']));
    expectApiError(await sdkError(run({ commandContent: content, enableParameter: true, parameters })), 'ParameterCount.ExceedLimit', 403);
    const { body } = await create({ commandContent: b64(content), enableParameter: true });
    expectApiError(await sdkError(invoke({ commandId: body.commandId, parameters })), 'ParameterCount.ExceedLimit', 403);
  });

  it('Parameter.NotMatched when a parameter is not in the content: 400 from RunCommand (seed 001), 403 from InvokeCommand (seed 000)', async () => {
    expectApiError(await sdkError(run({ commandContent: 'echo {{a}}', enableParameter: true, parameters: { b: '1' } })), 'Parameter.NotMatched', 400);
    const { body } = await create({ commandContent: b64('echo {{a}}'), enableParameter: true });
    expectApiError(await sdkError(invoke({ commandId: body.commandId, parameters: { b: '1' } })), 'Parameter.NotMatched', 403);
  });

  it('InvalidCmdType.NotFound for an unknown Type', async () => {
    expectApiError(await sdkError(run({ type: 'RunPythonScript' })), 'InvalidCmdType.NotFound', 404);
    expectApiError(await sdkError(create({ type: 'RunPythonScript' })), 'InvalidCmdType.NotFound', 404);
  });

  it('InvalidCmdId.NotFound for an unknown CommandId', async () => {
    expectApiError(await sdkError(invoke({ commandId: 'c-nosuchcommand' })), 'InvalidCmdId.NotFound', 404);
  });
});

describe('schedule errors', () => {
  it('InvalidParam.Frequency for a rate under 60 s, a rate not longer than Timeout, and nonsense', async () => {
    expectApiError(await sdkError(run({ repeatMode: 'Period', frequency: 'rate(10s)' })), 'InvalidParam.Frequency', 400);
    expectApiError(await sdkError(run({ repeatMode: 'Period', frequency: 'rate(1m)', timeout: 120 })), 'InvalidParam.Frequency', 400);
    expectApiError(await sdkError(run({ repeatMode: 'Period', frequency: 'every tuesday' })), 'InvalidParam.Frequency', 400);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, repeatMode: 'Period', frequency: 'rate(5s)' })), 'InvalidParam.Frequency', 400);
  });

  it('MissingParam.Frequency for RepeatMode=Period without Frequency', async () => {
    expectApiError(await sdkError(run({ repeatMode: 'Period' })), 'MissingParam.Frequency', 400);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, repeatMode: 'Period' })), 'MissingParam.Frequency', 400);
  });

  it('InvalidRepeatMode.NotFound for an unknown RepeatMode', async () => {
    expectApiError(await sdkError(run({ repeatMode: 'Sometimes' })), 'InvalidRepeatMode.NotFound', 404);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, repeatMode: 'Sometimes' })), 'InvalidRepeatMode.NotFound', 404);
  });

  it('InvalidTerminationMode.NotFound for an unknown TerminationMode', async () => {
    expectApiError(await sdkError(run({ terminationMode: 'Gently' })), 'InvalidTerminationMode.NotFound', 404);
    const { body } = await create({});
    expectApiError(await sdkError(invoke({ commandId: body.commandId, terminationMode: 'Gently' })), 'InvalidTerminationMode.NotFound', 404);
  });
});

describe('idempotency', () => {
  it('the same ClientToken returns the first answer; with different parameters it is IdempotentParameterMismatch', async () => {
    const token = '123e4567-e89b-12d3-a456-426655440001';
    const first = await run({ clientToken: token, commandContent: 'echo once' });
    const again = await run({ clientToken: token, commandContent: 'echo once' });
    expect(again.body.invokeId).toBe(first.body.invokeId);
    expect(again.body.commandId).toBe(first.body.commandId);
    expectApiError(await sdkError(run({ clientToken: token, commandContent: 'echo twice' })), 'IdempotentParameterMismatch', 403);
    await cloud.waitForFinal(first.body.invokeId);
    expect(cloud.emulator.agents.executionLog.filter((e) => e.invokeId === first.body.invokeId)).toHaveLength(1);

    const { body } = await create({});
    const inv1 = await invoke({ commandId: body.commandId, clientToken: token });
    const inv2 = await invoke({ commandId: body.commandId, clientToken: token });
    expect(inv2.body.invokeId).toBe(inv1.body.invokeId);
    expect(inv2.body.invokeId).not.toBe(first.body.invokeId);
    expectApiError(await sdkError(invoke({ commandId: body.commandId, clientToken: token, instanceId: [IDS.web2] })), 'IdempotentParameterMismatch', 403);
  });
});

describe('request-level errors', () => {
  it('InvalidRegionId.NotFound for another region, on every operation', async () => {
    const region = 'cn-nowhere';
    const calls: [string, Promise<unknown>][] = [
      ['RunCommand', run({ regionId: region })],
      ['CreateCommand', create({ regionId: region })],
      ['InvokeCommand', invoke({ regionId: region, commandId: 'c-x' })],
      ['DescribeCommands', cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: region }))],
      ['DeleteCommand', cloud.client.deleteCommand(new Models.DeleteCommandRequest({ regionId: region, commandId: 'c-x' }))],
      ['DescribeInvocations', cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: region }))],
      ['DescribeInvocationResults', cloud.client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: region, invokeId: 't-x' }))],
      ['StopInvocation', cloud.client.stopInvocation(new Models.StopInvocationRequest({ regionId: region, invokeId: 't-x' }))],
      ['DescribeInstances', cloud.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: region }))],
      ['DescribeCloudAssistantStatus', cloud.client.describeCloudAssistantStatus(new Models.DescribeCloudAssistantStatusRequest({ regionId: region }))],
    ];
    for (const [name, call] of calls) {
      const err = await sdkError(call);
      expect(`${name}: ${err.code}`).toBe(`${name}: InvalidRegionId.NotFound`);
      expectApiError(err, 'InvalidRegionId.NotFound', 404);
    }
  });

  it('InvalidAction.NotFound for an action the local Cloud Assistant does not serve', async () => {
    expectApiError(await sdkError(cloud.client.describeRegions(new Models.DescribeRegionsRequest({}))), 'InvalidAction.NotFound', 404);
  });

  it('StopInvocation of an unknown InvokeId answers InvalidInvokeId.NotFound', async () => {
    expectApiError(await sdkError(cloud.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: 't-nosuchinvoke' }))), 'InvalidInvokeId.NotFound', 404);
  });

  it('a wrong AccessKey secret is SignatureDoesNotMatch, an unknown AccessKey id InvalidAccessKeyId.NotFound', async () => {
    const badSecret = cloud.newClient({ accessKeySecret: 'wrong' });
    expectApiError(await sdkError(badSecret.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION }))), 'SignatureDoesNotMatch', 400);
    const badId = cloud.newClient({ accessKeyId: 'LTAI5tNobody' });
    expectApiError(await sdkError(badId.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION }))), 'InvalidAccessKeyId.NotFound', 404);
  });
});

describe('errors only the service can tell', () => {
  it('InvalidResourceTag.InstanceNotFound when no instance has the tags', async () => {
    expectApiError(await sdkError(run({ instanceId: undefined, resourceTag: [{ key: 'env', value: 'nowhere' }] })), 'InvalidResourceTag.InstanceNotFound', 400);
  });

  it('InvalidOssOutputDelivery.BucketNotFound when the output bucket does not exist', async () => {
    expectApiError(await sdkError(run({ ossOutputDelivery: 'oss://no-such-bucket/prefix/' })), 'InvalidOssOutputDelivery.BucketNotFound', 404);
  });
});
