/**
 * Every Cloud Assistant operation the emulator serves, driven through the UNMODIFIED
 * `@alicloud/ecs20140526` SDK, asserting the SDK's typed (camelCase) response bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, IDS, Models, REGION, startTestCloud, unb64, type TestCloud } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.close();
});

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('RunCommand', () => {
  it('returns a CommandId and InvokeId, runs the script and reports it in DescribeInvocationResults', async () => {
    const res = await cloud.client.runCommand(
      new Models.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: 'echo "hello from $(hostname 2>/dev/null || echo box)"; echo second line',
        instanceId: [IDS.web1, IDS.web2],
        name: 'api-run',
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(res.body.commandId).toMatch(/^c-/);
    expect(res.body.invokeId).toMatch(/^t-/);
    const events = await cloud.waitForFinal(res.body.invokeId);
    expect(events.map((e) => e.data.instanceId).sort()).toEqual([IDS.web1, IDS.web2]);
    expect(events.every((e) => e.data.invocationStatus === 'Success')).toBe(true);

    const results = await cloud.client.describeInvocationResults(
      new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId: res.body.invokeId, contentEncoding: 'PlainText' }),
    );
    const list = results.body.invocation.invocationResults.invocationResult;
    expect(list).toHaveLength(2);
    for (const r of list) {
      expect(r.invokeId).toBe(res.body.invokeId);
      expect(r.commandId).toBe(res.body.commandId);
      expect(r.invocationStatus).toBe('Success');
      expect(r.invokeRecordStatus).toBe('Finished');
      expect(r.exitCode).toBe(0);
      expect(r.errorCode).toBe('');
      expect(r.output).toMatch(/^hello from .*\nsecond line\n$/);
      expect(r.dropped).toBe(0);
      expect(r.repeats).toBe(1);
      expect(r.startTime).toMatch(TIME);
      expect(r.finishedTime).toMatch(TIME);
      expect(r.username).toBe('root');
    }
  });

  it('decodes Base64 CommandContent when ContentEncoding=Base64', async () => {
    const { invokeId } = await cloud.run({ commandContent: b64('echo base64-ok'), contentEncoding: 'Base64' });
    const results = await cloud.client.describeInvocationResults(
      new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, contentEncoding: 'PlainText' }),
    );
    expect(results.body.invocation.invocationResults.invocationResult[0].output).toBe('base64-ok\n');
  });
});

describe('CreateCommand, InvokeCommand, DescribeCommands, DeleteCommand', () => {
  it('creates a command (Base64 content by default) and invokes it on two instances', async () => {
    const created = await cloud.client.createCommand(
      new Models.CreateCommandRequest({
        regionId: REGION,
        name: 'api-create-invoke',
        description: 'made by the api test',
        type: 'RunShellScript',
        commandContent: b64('echo invoked on $FLEETRUN_MARK; exit 0'),
        timeout: 30,
      }),
    );
    expect(created.body.commandId).toMatch(/^c-/);

    const invoked = await cloud.client.invokeCommand(
      new Models.InvokeCommandRequest({ regionId: REGION, commandId: created.body.commandId, instanceId: [IDS.web1, IDS.web2] }),
    );
    expect(invoked.body.invokeId).toMatch(/^t-/);
    const events = await cloud.waitForFinal(invoked.body.invokeId);
    expect(events.map((e) => [e.data.instanceId, e.data.invocationStatus, e.data.commandId, e.data.commandName]).sort()).toEqual([
      [IDS.web1, 'Success', created.body.commandId, 'api-create-invoke'],
      [IDS.web2, 'Success', created.body.commandId, 'api-create-invoke'],
    ]);

    const described = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, commandId: created.body.commandId }));
    const [command] = described.body.commands.command;
    expect(described.body.totalCount).toBe(1);
    expect(command.name).toBe('api-create-invoke');
    expect(command.description).toBe('made by the api test');
    expect(command.type).toBe('RunShellScript');
    expect(unb64(command.commandContent)).toBe('echo invoked on $FLEETRUN_MARK; exit 0');
    expect(command.timeout).toBe(30);
    expect(command.invokeTimes).toBe(1);
    expect(command.creationTime).toMatch(TIME);
  });

  it('DescribeCommands filters by Name wildcard, hides unkept RunCommand commands and pages both ways', async () => {
    const ids: string[] = [];
    for (const name of ['wild-deploy-a', 'wild-deploy-b', 'wild-deploy-c', 'wild-other']) {
      const r = await cloud.client.createCommand(
        new Models.CreateCommandRequest({ regionId: REGION, name, type: 'RunShellScript', commandContent: 'echo {{x}}', contentEncoding: 'PlainText', enableParameter: true }),
      );
      ids.push(r.body.commandId);
    }
    // RunCommand without KeepCommand does not keep a command to describe.
    await cloud.run({ name: 'wild-deploy-unkept', commandContent: 'true' });

    const all = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, name: 'wild-deploy-*', contentEncoding: 'PlainText' }));
    expect(all.body.totalCount).toBe(3);
    expect(all.body.commands.command.map((c: any) => c.name).sort()).toEqual(['wild-deploy-a', 'wild-deploy-b', 'wild-deploy-c']);
    expect(all.body.commands.command[0].commandContent).toBe('echo {{x}}');
    expect(all.body.commands.command[0].enableParameter).toBe(true);
    expect(all.body.commands.command[0].parameterNames.parameterName).toEqual(['x']);

    const middle = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, name: '*deploy-b' }));
    expect(middle.body.commands.command.map((c: any) => c.commandId)).toEqual([ids[1]]);

    // MaxResults + NextToken.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, name: 'wild-*', maxResults: 3, nextToken: token }));
      seen.push(...r.body.commands.command.map((c: any) => c.commandId));
      token = r.body.nextToken || undefined;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([...ids].sort());

    // PageNumber + PageSize.
    const page2 = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, name: 'wild-*', pageSize: 3, pageNumber: 2 }));
    expect(page2.body.totalCount).toBe(4);
    expect(page2.body.pageNumber).toBe(2);
    expect(page2.body.pageSize).toBe(3);
    expect(page2.body.commands.command).toHaveLength(1);
  });

  it('DeleteCommand removes the command: InvokeCommand and a second delete answer InvalidCmdId.NotFound', async () => {
    const created = await cloud.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 'api-delete-me', type: 'RunShellScript', commandContent: b64('true') }),
    );
    const commandId = created.body.commandId;
    const deleted = await cloud.client.deleteCommand(new Models.DeleteCommandRequest({ regionId: REGION, commandId }));
    expect(deleted.statusCode).toBe(200);
    expect(deleted.body.requestId).toBeTruthy();

    const described = await cloud.client.describeCommands(new Models.DescribeCommandsRequest({ regionId: REGION, commandId }));
    expect(described.body.totalCount).toBe(0);

    const invokeErr = await cloud.client
      .invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, commandId, instanceId: [IDS.web1] }))
      .catch((e: any) => e);
    expect(invokeErr.code).toBe('InvalidCmdId.NotFound');
    expect(invokeErr.statusCode).toBe(404);

    const again = await cloud.client.deleteCommand(new Models.DeleteCommandRequest({ regionId: REGION, commandId })).catch((e: any) => e);
    expect(again.code).toBe('InvalidCmdId.NotFound');
    expect(again.statusCode).toBe(404);
  });
});

describe('DescribeInvocations', () => {
  it('returns the invocation with per-instance records; Output only with IncludeOutput; Base64 by default, PlainText on request', async () => {
    const { invokeId, commandId } = await cloud.run({
      name: 'describe-output',
      commandContent: 'printf "out-ü\\n"',
      instanceId: [IDS.web1, IDS.web2],
      tag: [new Models.RunCommandRequestTag({ key: 'suite', value: 'describe-output' })],
    });

    const withoutOutput = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(withoutOutput.body.totalCount).toBe(1);
    const inv = withoutOutput.body.invocations.invocation[0];
    expect(inv.invokeId).toBe(invokeId);
    expect(inv.commandId).toBe(commandId);
    expect(inv.commandName).toBe('describe-output');
    expect(inv.commandType).toBe('RunShellScript');
    expect(unb64(inv.commandContent)).toBe('printf "out-ü\\n"');
    expect(inv.invocationStatus).toBe('Success');
    expect(inv.invokeStatus).toBe('Finished');
    expect(inv.repeatMode).toBe('Once');
    expect(inv.timeout).toBe(60);
    expect(inv.username).toBe('root');
    expect(inv.creationTime).toMatch(TIME);
    expect(inv.tags.tag).toEqual([expect.objectContaining({ tagKey: 'suite', tagValue: 'describe-output' })]);
    const records = inv.invokeInstances.invokeInstance;
    expect(records.map((r: any) => r.instanceId).sort()).toEqual([IDS.web1, IDS.web2]);
    for (const r of records) {
      expect(r.invocationStatus).toBe('Success');
      expect(r.exitCode).toBe(0);
      expect(r.output ?? '').toBe('');
      expect(r.repeats).toBe(1);
      expect(r.finishTime).toMatch(TIME);
    }

    const base64 = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId, includeOutput: true }));
    const b64Record = base64.body.invocations.invocation[0].invokeInstances.invokeInstance[0];
    expect(b64Record.output).toBe(b64('out-ü\n'));

    const plain = await cloud.client.describeInvocations(
      new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId, includeOutput: true, contentEncoding: 'PlainText' }),
    );
    const plainInv = plain.body.invocations.invocation[0];
    expect(plainInv.commandContent).toBe('printf "out-ü\\n"');
    expect(plainInv.invokeInstances.invokeInstance[0].output).toBe('out-ü\n');
  });

  it('filters by InvokeStatus', async () => {
    const tag = [new Models.RunCommandRequestTag({ key: 'suite', value: 'status-filter' })];
    const ok = await cloud.run({ commandContent: 'exit 0', tag });
    const bad = await cloud.run({ commandContent: 'exit 3', tag });
    const mixed = await cloud.run({ commandContent: '[ "$HOSTNAME" = web-1 ] && exit 0 || exit 4', instanceId: [IDS.web1, IDS.web2], tag });
    const query = (invokeStatus: string) =>
      cloud.client
        .describeInvocations(
          new Models.DescribeInvocationsRequest({ regionId: REGION, invokeStatus, tag: [new Models.DescribeInvocationsRequestTag({ key: 'suite', value: 'status-filter' })] }),
        )
        .then((r: any) => r.body.invocations.invocation.map((i: any) => i.invokeId));
    expect(await query('Finished')).toEqual([ok.invokeId]);
    expect(await query('Success')).toEqual([ok.invokeId]);
    expect(await query('Failed')).toEqual([bad.invokeId]);
    expect(await query('PartialFailed')).toEqual([mixed.invokeId]);
    expect(await query('Running')).toEqual([]);
  });

  it('pages with MaxResults + NextToken across several pages, and with PageNumber + PageSize; a bad NextToken is refused', async () => {
    const tag = [new Models.RunCommandRequestTag({ key: 'suite', value: 'paging' })];
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await cloud.client.runCommand(
        new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: `echo ${i}`, instanceId: [IDS.web1], tag }),
      );
      created.push(r.body.invokeId);
    }
    const filter = [new Models.DescribeInvocationsRequestTag({ key: 'suite', value: 'paging' })];
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const r = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, tag: filter, maxResults: 3, nextToken: token }));
      pages.push(r.body.invocations.invocation.map((i: any) => i.invokeId));
      token = r.body.nextToken || undefined;
      expect(pages.length).toBeLessThan(10);
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    // Newest first, nothing repeated or skipped.
    expect(pages.flat()).toEqual([...created].reverse());

    const page3 = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, tag: filter, pageSize: 3, pageNumber: 3 }));
    expect(page3.body.totalCount).toBe(7);
    expect(page3.body.pageNumber).toBe(3);
    expect(page3.body.pageSize).toBe(3);
    expect(page3.body.invocations.invocation.map((i: any) => i.invokeId)).toEqual([created[0]]);

    const bad = await cloud.client
      .describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, maxResults: 3, nextToken: 'not-a-token-we-gave' }))
      .catch((e: any) => e);
    expect(bad.code).toBe('InvalidParameter.NextToken');
    expect(bad.statusCode).toBe(400);
    await cloud.waitForEvents((e) => created.includes(e.data.invokeId ?? ''), 7);
  });
});

describe('DescribeInvocationResults', () => {
  it('pages with MaxResults + NextToken and with PageNumber + PageSize', async () => {
    const { invokeId } = await cloud.run({ commandContent: 'echo $HOSTNAME', instanceId: [IDS.web1, IDS.web2] });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await cloud.client.describeInvocationResults(
        new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, maxResults: 1, nextToken: token, contentEncoding: 'PlainText' }),
      );
      const [one] = r.body.invocation.invocationResults.invocationResult;
      seen.push(`${one.instanceId}:${one.output.trim()}`);
      token = r.body.invocation.nextToken || undefined;
      pages++;
    } while (token && pages < 5);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([`${IDS.web1}:web-1`, `${IDS.web2}:web-2`]);

    const p2 = await cloud.client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, pageSize: 1, pageNumber: 2 }));
    expect(p2.body.invocation.totalCount).toBe(2);
    expect(p2.body.invocation.pageNumber).toBe(2);
    expect(p2.body.invocation.invocationResults.invocationResult).toHaveLength(1);

    const one = await cloud.client.describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, instanceId: IDS.web2 }));
    expect(one.body.invocation.invocationResults.invocationResult.map((r: any) => r.instanceId)).toEqual([IDS.web2]);
    // Default encoding is Base64.
    expect(unb64(one.body.invocation.invocationResults.invocationResult[0].output)).toBe('web-2\n');

    const bad = await cloud.client
      .describeInvocationResults(new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, nextToken: 'bogus' }))
      .catch((e: any) => e);
    expect(bad.code).toBe('InvalidParameter.NextToken');
  });
});

describe('DescribeInvocationResults InvokeRecordStatus filter', () => {
  it('selects the records that show that InvokeRecordStatus', async () => {
    const tag = [new Models.RunCommandRequestTag({ key: 'suite', value: 'record-status' })];
    const ok = await cloud.run({ commandContent: 'exit 0', tag });
    const nonZero = await cloud.run({ commandContent: 'exit 5', tag });
    const invalid = await cloud.run({ commandContent: 'true', workingDir: '/missing/dir', tag });
    const mine = new Set([ok.invokeId, nonZero.invokeId, invalid.invokeId]);
    const query = async (invokeRecordStatus: string) => {
      const r = await cloud.client.describeInvocationResults(
        new Models.DescribeInvocationResultsRequest({
          regionId: REGION,
          invokeRecordStatus,
          maxResults: 50,
          tag: [new Models.DescribeInvocationResultsRequestTag({ key: 'suite', value: 'record-status' })],
        }),
      );
      const list = r.body.invocation.invocationResults.invocationResult;
      // Every record returned shows the status asked for.
      for (const rec of list) expect([rec.invokeRecordStatus, rec.invocationStatus]).toContain(invokeRecordStatus);
      return list.map((rec: any) => rec.invokeId).filter((id: string) => mine.has(id)).sort();
    };
    // An exit code other than 0 still shows InvokeRecordStatus Finished (reference §2.2).
    expect(await query('Finished')).toEqual([ok.invokeId, nonZero.invokeId].sort());
    expect(await query('Success')).toEqual([ok.invokeId]);
    expect(await query('Failed')).toEqual([nonZero.invokeId, invalid.invokeId].sort());
    expect(await query('Invalid')).toEqual([invalid.invokeId]);
    expect(await query('Running')).toEqual([]);
  });
});

describe('DescribeInstances', () => {
  it('selects by InstanceIds (a JSON array), Tag and Status', async () => {
    const byIds = await cloud.client.describeInstances(
      new Models.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify([IDS.web2, IDS.windows, 'i-notthere0000']) }),
    );
    expect(byIds.body.totalCount).toBe(2);
    const instances = byIds.body.instances.instance;
    expect(instances.map((i: any) => i.instanceId).sort()).toEqual([IDS.web2, IDS.windows].sort());
    const win = instances.find((i: any) => i.instanceId === IDS.windows);
    expect(win.instanceName).toBe('win-1');
    expect(win.OSType ?? win.osType).toBe('windows');
    expect(win.status).toBe('Running');
    expect(win.regionId).toBe(REGION);
    expect(win.tags.tag).toEqual(expect.arrayContaining([expect.objectContaining({ tagKey: 'os', tagValue: 'windows' })]));

    const byTag = await cloud.client.describeInstances(
      new Models.DescribeInstancesRequest({ regionId: REGION, tag: [new Models.DescribeInstancesRequestTag({ key: 'role', value: 'web' })] }),
    );
    expect(byTag.body.instances.instance.map((i: any) => i.instanceId).sort()).toEqual([IDS.stopped, IDS.web1].sort());

    const byTagAndStatus = await cloud.client.describeInstances(
      new Models.DescribeInstancesRequest({ regionId: REGION, status: 'Running', tag: [new Models.DescribeInstancesRequestTag({ key: 'role', value: 'web' })] }),
    );
    expect(byTagAndStatus.body.instances.instance.map((i: any) => i.instanceId)).toEqual([IDS.web1]);

    const stopped = await cloud.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION, status: 'Stopped' }));
    expect(stopped.body.instances.instance.map((i: any) => i.instanceId)).toEqual([IDS.stopped]);
    expect(stopped.body.instances.instance[0].status).toBe('Stopped');

    const all = await cloud.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION, maxResults: 2 }));
    expect(all.body.instances.instance).toHaveLength(2);
    expect(all.body.nextToken).not.toBe('');
    const rest = await cloud.client.describeInstances(new Models.DescribeInstancesRequest({ regionId: REGION, maxResults: 100, nextToken: all.body.nextToken }));
    expect(rest.body.instances.instance).toHaveLength(3);
  });
});

describe('DescribeCloudAssistantStatus', () => {
  it('answers CloudAssistantStatus "true" only for Running instances whose agent is online', async () => {
    await cloud.run({ commandContent: 'true' });
    const res = await cloud.client.describeCloudAssistantStatus(
      new Models.DescribeCloudAssistantStatusRequest({ regionId: REGION, instanceId: [IDS.web1, IDS.stopped, IDS.offline, IDS.windows] }),
    );
    const set = res.body.instanceCloudAssistantStatusSet.instanceCloudAssistantStatus;
    const status = Object.fromEntries(set.map((s: any) => [s.instanceId, s.cloudAssistantStatus]));
    expect(status).toEqual({ [IDS.web1]: 'true', [IDS.stopped]: 'false', [IDS.offline]: 'false', [IDS.windows]: 'true' });
    const win = set.find((s: any) => s.instanceId === IDS.windows);
    expect(win.OSType ?? win.osType).toBe('Windows');
    expect(win.cloudAssistantVersion).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(res.body.totalCount).toBe(4);

    const web1 = set.find((s: any) => s.instanceId === IDS.web1);
    expect(web1.invocationCount).toBeGreaterThan(0);
    expect(web1.lastInvokedTime).toMatch(TIME);
  });
});
