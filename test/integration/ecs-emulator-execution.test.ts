/**
 * Real execution on the emulator's instance sandboxes, driven by the real SDK: exit codes and
 * output, working directories, parameters, timeouts and termination modes, StopInvocation, and the
 * per-instance refusals (Aborted / Invalid) the agent reports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, IDS, isAlive, Models, REGION, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud;
let sandboxRoot: string;

beforeAll(async () => {
  sandboxRoot = await mkdtemp(path.join(tmpdir(), 'fleetrun-exec-test-'));
  cloud = await startTestCloud({ sandboxRoot, notRunningInstance: 'abort-instance' });
});
afterAll(async () => {
  await cloud?.close();
  if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
});

const instanceRoot = (id: string) => path.join(sandboxRoot, id);

async function result(invokeId: string, instanceId: string = IDS.web1): Promise<any> {
  const r = await cloud.client.describeInvocationResults(
    new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, instanceId, contentEncoding: 'PlainText' }),
  );
  const list = r.body.invocation.invocationResults.invocationResult;
  expect(list).toHaveLength(1);
  return list[0];
}

async function waitForStatus(invokeId: string, status: string, instanceId: string = IDS.web1): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await result(invokeId, instanceId);
    if (r.invocationStatus === status) return;
    if (Date.now() > deadline) throw new Error(`${invokeId} on ${instanceId} never reached ${status} (is ${r.invocationStatus})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('exit code and output', () => {
  it('a non-zero exit is Failed with ExitCodeNonzero; stdout and stderr are merged', async () => {
    const { invokeId, events } = await cloud.run({ commandContent: 'echo to-stdout; sleep 0.05; echo to-stderr >&2; sleep 0.05; echo tail; exit 7' });
    expect(events).toHaveLength(1);
    expect(events[0]!.data.invocationStatus).toBe('Failed');
    expect(events[0]!.data.exitCode).toBe('7');
    const r = await result(invokeId);
    expect(r.invocationStatus).toBe('Failed');
    expect(r.exitCode).toBe(7);
    expect(r.errorCode).toBe('ExitCodeNonzero');
    expect(r.errorInfo).toMatch(/exit code is not zero/);
    expect(r.output).toBe('to-stdout\nto-stderr\ntail\n');
  });

  it('output over 24 KB keeps the tail and Dropped counts the rest', async () => {
    // 30,000 'a's then a marker: 30,004 bytes in all.
    const { invokeId } = await cloud.run({ commandContent: "head -c 30000 /dev/zero | tr '\\0' a; printf 'END\\n'" });
    const r = await result(invokeId);
    expect(r.invocationStatus).toBe('Success');
    expect(Buffer.byteLength(r.output)).toBe(24 * 1024);
    expect(r.output.endsWith('aaaEND\n')).toBe(true);
    expect(r.dropped).toBe(30_004 - 24 * 1024);

    const inv = await cloud.client.describeInvocations(
      new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId, includeOutput: true, contentEncoding: 'PlainText' }),
    );
    const record = inv.body.invocations.invocation[0].invokeInstances.invokeInstance[0];
    expect(record.dropped).toBe(30_004 - 24 * 1024);
    expect(record.output).toBe(r.output);
  });
});

describe('WorkingDir', () => {
  it('runs in the instance sandbox: /root by default, an existing WorkingDir when given', async () => {
    const home = await cloud.run({ commandContent: 'pwd; echo "HOME=$HOME"' });
    const root = path.join(instanceRoot(IDS.web1), 'root');
    expect((await result(home.invokeId)).output).toBe(`${root}\nHOME=${root}\n`);

    await mkdir(path.join(instanceRoot(IDS.web1), 'srv', 'app'), { recursive: true });
    const app = await cloud.run({ commandContent: 'pwd; echo made > here.txt', workingDir: '/srv/app' });
    expect((await result(app.invokeId)).output).toBe(`${path.join(instanceRoot(IDS.web1), 'srv', 'app')}\n`);
    expect(await readFile(path.join(instanceRoot(IDS.web1), 'srv', 'app', 'here.txt'), 'utf8')).toBe('made\n');

    // A path that tries to climb out of the instance stays inside its sandbox.
    const climb = await cloud.run({ commandContent: 'pwd', workingDir: '/../../..' });
    expect((await result(climb.invokeId)).output).toBe(`${instanceRoot(IDS.web1)}\n`);
  });

  it('a missing WorkingDir makes that instance Invalid with DirectoryNotExists', async () => {
    await mkdir(path.join(instanceRoot(IDS.web2), 'only-on-web2'), { recursive: true });
    const { invokeId, events } = await cloud.run({ commandContent: 'echo ran', workingDir: '/only-on-web2', instanceId: [IDS.web1, IDS.web2] });
    const byInstance = Object.fromEntries(events.map((e) => [e.data.instanceId, e.data]));
    expect(byInstance[IDS.web1]).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'DirectoryNotExists' });
    expect(byInstance[IDS.web2]).toMatchObject({ invocationStatus: 'Success', errorCode: '' });
    const r = await result(invokeId, IDS.web1);
    expect(r.invocationStatus).toBe('Invalid');
    expect(r.errorCode).toBe('DirectoryNotExists');
    expect(r.errorInfo).toMatch(/directory does not exist/);
    expect(r.output).toBe('');

    const inv = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(inv.body.invocations.invocation[0].invocationStatus).toBe('PartialFailed');
  });
});

describe('parameters', () => {
  it('substitutes custom {{name}} parameters and the built-in {{ACS::...}} ones', async () => {
    const content = [
      'echo "greeting={{greeting}} {{ Target }}"',
      'echo "instance={{ACS::InstanceId}}"',
      'echo "invoke={{ACS::InvokeId}}"',
      'echo "command={{ACS::CommandId}}"',
      'echo "name={{ACS::InstanceName}}"',
      'echo "region={{ ACS::RegionId }}"',
    ].join('\n');
    const { invokeId, commandId } = await cloud.run({
      commandContent: content,
      enableParameter: true,
      parameters: { greeting: 'hello', target: 'world' },
      instanceId: [IDS.web1, IDS.web2],
    });
    for (const [id, name] of [[IDS.web1, 'web-1'], [IDS.web2, 'web-2']] as const) {
      expect((await result(invokeId, id)).output).toBe(
        `greeting=hello world\ninstance=${id}\ninvoke=${invokeId}\ncommand=${commandId}\nname=${name}\nregion=${REGION}\n`,
      );
    }
    const inv = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(JSON.parse(inv.body.invocations.invocation[0].parameters)).toEqual({ greeting: 'hello', target: 'world' });
  });

  it('InvokeCommand passes parameters to a saved command', async () => {
    const created = await cloud.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 'param-cmd', type: 'RunShellScript', commandContent: b64('echo "v={{v}} on {{ACS::InstanceName}}"'), enableParameter: true }),
    );
    const invoked = await cloud.client.invokeCommand(
      new Models.InvokeCommandRequest({ regionId: REGION, commandId: created.body.commandId, instanceId: [IDS.web2], parameters: { v: 42 } }),
    );
    await cloud.waitForFinal(invoked.body.invokeId);
    expect((await result(invoked.body.invokeId, IDS.web2)).output).toBe('v=42 on web-2\n');
  });

  it('an unknown built-in {{ACS::Nope}} makes the instance Invalid and runs nothing', async () => {
    const before = cloud.emulator.agents.executionLog.length;
    const { invokeId, events } = await cloud.run({ commandContent: 'echo {{ACS::Nope}}', enableParameter: true });
    expect(events[0]!.data.invocationStatus).toBe('Invalid');
    const r = await result(invokeId);
    expect(r.invocationStatus).toBe('Invalid');
    expect(r.errorCode).toBe('InvalidEnvironmentParameter');
    expect(cloud.emulator.agents.executionLog.length).toBe(before);
  });
});

describe('Launcher and DryRun', () => {
  it('a Launcher runs the script through another interpreter; words after the script name are its arguments', async () => {
    const withArgs = await cloud.run({
      commandContent: 'import sys\nprint("py", sys.argv[1:], sys.argv[0].endswith(".py"))',
      launcher: 'python3 -u {{ACS::ScriptFileName|Ext(".py")}} --flag value',
    });
    expect(withArgs.events[0]!.data.invocationStatus).toBe('Success');
    expect((await result(withArgs.invokeId)).output).toBe("py ['--flag', 'value'] True\n");

    // Without the placeholder the script file is appended to the launcher's words.
    const appended = await cloud.run({ commandContent: 'echo "args: $*"', launcher: 'sh' });
    expect((await result(appended.invokeId)).output).toBe('args: \n');
  });

  it('RepeatMode=DryRun checks the task but runs nothing', async () => {
    const before = cloud.emulator.agents.executionLog.length;
    const { invokeId, events } = await cloud.run({ commandContent: 'echo should-not-run', repeatMode: 'DryRun' });
    expect(events[0]!.data).toMatchObject({ invocationStatus: 'Success', repeatMode: 'DryRun' });
    expect((await result(invokeId)).output).toBe('');
    expect(cloud.emulator.agents.executionLog.length).toBe(before);
    // The checks still apply.
    const refused = await cloud.run({ commandContent: 'echo x', repeatMode: 'DryRun', workingDir: '/no/such/dir' });
    expect(refused.events[0]!.data).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'DirectoryNotExists' });
  });
});

describe('Username', () => {
  it('runs as an account that exists on the instance; an unknown one is Invalid / AccountNotExists', async () => {
    const ok = await cloud.run({ commandContent: 'echo "$USER $HOME"', username: 'deploy' });
    const r = await result(ok.invokeId);
    expect(r.invocationStatus).toBe('Success');
    expect(r.username).toBe('deploy');
    expect(r.output).toBe(`deploy ${path.join(instanceRoot(IDS.web1), 'home', 'deploy')}\n`);

    // web-2 has only root.
    const { invokeId, events } = await cloud.run({ commandContent: 'echo ran', username: 'deploy', instanceId: [IDS.web2] });
    expect(events[0]!.data).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'AccountNotExists' });
    const bad = await result(invokeId, IDS.web2);
    expect(bad.errorCode).toBe('AccountNotExists');
    expect(bad.errorInfo).toMatch(/account does not exist/);
  });
});

describe('instances that cannot run the command', () => {
  it('RunBatScript on a Linux instance and RunShellScript on a Windows one are Invalid / CommandNotApplicable', async () => {
    const bat = await cloud.run({ type: 'RunBatScript', commandContent: 'echo hi' });
    expect(bat.events[0]!.data).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'CommandNotApplicable', instanceId: IDS.web1 });
    const shell = await cloud.run({ commandContent: 'echo hi', instanceId: [IDS.windows] });
    expect(shell.events[0]!.data).toMatchObject({ invocationStatus: 'Invalid', errorCode: 'CommandNotApplicable', instanceId: IDS.windows });
    expect((await result(bat.invokeId)).errorInfo).toMatch(/not applicable/);
  });

  it('a Stopped instance (notRunningInstance: abort-instance) is Aborted / InstanceNotRunning while the others run', async () => {
    const { invokeId, events } = await cloud.run({ commandContent: 'echo ran', instanceId: [IDS.web1, IDS.stopped] });
    const byInstance = Object.fromEntries(events.map((e) => [e.data.instanceId, e.data]));
    expect(byInstance[IDS.stopped]).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'InstanceNotRunning' });
    expect(byInstance[IDS.web1]).toMatchObject({ invocationStatus: 'Success' });
    const r = await result(invokeId, IDS.stopped);
    expect(r.invocationStatus).toBe('Aborted');
    expect(r.errorCode).toBe('InstanceNotRunning');
  });

  it('an offline agent is Aborted / ClientNotRunning promptly', async () => {
    const started = Date.now();
    const { invokeId, events } = await cloud.run({ commandContent: 'echo ran', instanceId: [IDS.offline] }, { timeoutMs: 3_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events[0]!.data).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'ClientNotRunning' });
    const r = await result(invokeId, IDS.offline);
    expect(r.invocationStatus).toBe('Aborted');
    expect(r.errorCode).toBe('ClientNotRunning');
    expect(r.errorInfo).toMatch(/not running/);
  });
});

describe('StopInvocation', () => {
  it('stops a running script: Terminated, quickly, with its output so far', async () => {
    const dir = path.join(instanceRoot(IDS.web1), 'stop-running');
    await mkdir(dir, { recursive: true });
    const res = await cloud.client.runCommand(
      new Models.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: 'echo started; touch started.flag; sleep 20; echo never',
        instanceId: [IDS.web1],
        workingDir: '/stop-running',
      }),
    );
    const invokeId = res.body.invokeId;
    await waitForStatus(invokeId, 'Running');
    // Running is reported once the process is spawned; wait for the script itself to have started.
    await cloud.waitUntil(() => existsSync(path.join(dir, 'started.flag')), 'the script touched its flag');
    const running = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(running.body.invocations.invocation[0].invocationStatus).toBe('Running');
    expect(running.body.invocations.invocation[0].invokeStatus).toBe('Running');

    const started = Date.now();
    const stopped = await cloud.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId, instanceId: [IDS.web1] }));
    expect(stopped.statusCode).toBe(200);
    const [event] = await cloud.waitForFinal(invokeId, { timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(event!.data.invocationStatus).toBe('Terminated');
    const r = await result(invokeId);
    expect(r.invocationStatus).toBe('Terminated');
    expect(r.invokeRecordStatus).toBe('Stopped');
    expect(r.stopTime).toMatch(/Z$/);
    expect(r.output).toBe('started\n');
    const inv = await cloud.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(inv.body.invocations.invocation[0].invocationStatus).toBe('Stopped');
    expect(inv.body.invocations.invocation[0].invokeStatus).toBe('Stopped');
  });
});

describe('StopInvocation before delivery', () => {
  let slow: TestCloud;
  beforeAll(async () => {
    slow = await startTestCloud({ deliveryDelayMs: 60_000 });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('cancels a Pending invocation: Cancelled, and the script never runs', async () => {
    const res = await slow.client.runCommand(
      new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: 'echo should-not-run', instanceId: [IDS.web1, IDS.web2] }),
    );
    const invokeId = res.body.invokeId;
    const pending = await slow.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(pending.body.invocations.invocation[0].invocationStatus).toBe('Pending');

    await slow.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId }));
    const events = await slow.waitForFinal(invokeId, { timeoutMs: 3_000 });
    expect(events.map((e) => e.data.invocationStatus)).toEqual(['Cancelled', 'Cancelled']);
    const inv = await slow.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId }));
    expect(inv.body.invocations.invocation[0].invocationStatus).toBe('Stopped');
    expect(inv.body.invocations.invocation[0].invokeInstances.invokeInstance.map((r: any) => r.invocationStatus)).toEqual(['Cancelled', 'Cancelled']);
    expect(slow.emulator.agents.executionLog).toEqual([]);
  });
});

describe('Timeout and TerminationMode (time-scaled: Timeout 10 s = 0.5 s)', () => {
  let scaled: TestCloud;
  let scaledRoot: string;
  const spawned: number[] = [];
  beforeAll(async () => {
    scaledRoot = await mkdtemp(path.join(tmpdir(), 'fleetrun-timeout-test-'));
    scaled = await startTestCloud({ sandboxRoot: scaledRoot, timeScale: 20 });
  });
  afterAll(async () => {
    for (const pid of spawned) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await scaled?.close();
    if (scaledRoot) await rm(scaledRoot, { recursive: true, force: true });
  });

  // The script records its own pid and two children's, then outlives its Timeout.
  const script = ['echo $$ > pids', 'sleep 30 >/dev/null 2>&1 &', 'echo $! >> pids', 'sh -c "sleep 30" >/dev/null 2>&1 &', 'echo $! >> pids', 'echo waiting', 'sleep 30'].join('\n');

  async function runTimingOut(terminationMode: 'Process' | 'ProcessTree', dir: string) {
    await mkdir(path.join(scaledRoot, IDS.web1, dir), { recursive: true });
    const started = Date.now();
    const res = await scaled.client.runCommand(
      new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', commandContent: script, instanceId: [IDS.web1], timeout: 10, terminationMode, workingDir: `/${dir}` }),
    );
    const [event] = await scaled.waitForFinal(res.body.invokeId, { timeoutMs: 8_000 });
    const elapsed = Date.now() - started;
    const pids = (await readFile(path.join(scaledRoot, IDS.web1, dir, 'pids'), 'utf8')).trim().split('\n').map(Number);
    spawned.push(...pids);
    const r = await scaled.client.describeInvocationResults(
      new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId: res.body.invokeId, contentEncoding: 'PlainText' }),
    );
    return { event: event!, elapsed, pids, record: r.body.invocation.invocationResults.invocationResult[0] };
  }

  it('ProcessTree: a timeout is Timeout / ExecutionTimeout and leaves no process of the script behind', async () => {
    const { event, elapsed, pids, record } = await runTimingOut('ProcessTree', 'tree');
    expect(pids).toHaveLength(3);
    expect(event.data.invocationStatus).toBe('Timeout');
    expect(elapsed).toBeLessThan(5_000);
    expect(record.invocationStatus).toBe('Timeout');
    expect(record.errorCode).toBe('ExecutionTimeout');
    expect(record.invokeRecordStatus).toBe('Failed');
    expect(record.terminationMode).toBe('ProcessTree');
    expect(record.output).toBe('waiting\n');
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('Process: a timeout kills the script process only; its backgrounded children survive', async () => {
    const { event, pids, record } = await runTimingOut('Process', 'proc');
    expect(event.data.invocationStatus).toBe('Timeout');
    expect(record.errorCode).toBe('ExecutionTimeout');
    expect(record.terminationMode).toBe('Process');
    const [leader, ...children] = pids;
    expect(isAlive(leader!)).toBe(false);
    expect(children.map(isAlive)).toEqual([true, true]);
    for (const pid of children) process.kill(pid, 'SIGKILL');
  });

  it('StopInvocation with ProcessTree kills the whole tree', async () => {
    await mkdir(path.join(scaledRoot, IDS.web1, 'stoptree'), { recursive: true });
    const res = await scaled.client.runCommand(
      new Models.RunCommandRequest({
        regionId: REGION,
        type: 'RunShellScript',
        commandContent: script.replace('echo waiting', 'echo waiting > ready'),
        instanceId: [IDS.web1],
        timeout: 600,
        terminationMode: 'ProcessTree',
        workingDir: '/stoptree',
      }),
    );
    const ready = path.join(scaledRoot, IDS.web1, 'stoptree', 'ready');
    await scaled.waitUntil(() => {
      try {
        return readFileSync(ready, 'utf8') === 'waiting\n';
      } catch {
        return false;
      }
    }, 'the script is ready');
    await scaled.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: res.body.invokeId }));
    const [event] = await scaled.waitForFinal(res.body.invokeId, { timeoutMs: 5_000 });
    expect(event!.data.invocationStatus).toBe('Terminated');
    const pids = (await readFile(path.join(scaledRoot, IDS.web1, 'stoptree', 'pids'), 'utf8')).trim().split('\n').map(Number);
    spawned.push(...pids);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
