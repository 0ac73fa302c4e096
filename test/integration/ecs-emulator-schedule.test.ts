/**
 * Repeat modes through the real SDK: Period (rate, at and cron, time-scaled so that minutes pass in
 * fractions of a second), NextRebootOnly and EveryReboot (via `emulator.reboot` and the HTTP
 * control endpoint), with IncludeHistory and StopInvocation.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { IDS, Models, REGION, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

let cloud: TestCloud | undefined;
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});
afterAll(async () => {
  await cloud?.close();
});

async function start(timeScale = 1): Promise<TestCloud> {
  cloud = await startTestCloud({ timeScale });
  return cloud;
}

const runReq = (o: Record<string, unknown>) =>
  new Models.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', instanceId: [IDS.web1], ...o });

async function describeInvocation(c: TestCloud, invokeId: string): Promise<any> {
  const r = await c.client.describeInvocations(new Models.DescribeInvocationsRequest({ regionId: REGION, invokeId, includeOutput: true, contentEncoding: 'PlainText' }));
  return r.body.invocations.invocation[0];
}

async function history(c: TestCloud, invokeId: string, includeHistory = true): Promise<any[]> {
  const r = await c.client.describeInvocationResults(
    new Models.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, includeHistory, contentEncoding: 'PlainText', maxResults: 50 }),
  );
  return r.body.invocation.invocationResults.invocationResult;
}

/** Proves that nothing more happens: waits `ms` and checks the execution count did not move. */
async function expectNoMoreRuns(c: TestCloud, invokeId: string, ms: number): Promise<number> {
  const count = () => c.emulator.agents.executionLog.filter((e) => e.invokeId === invokeId).length;
  const before = count();
  await new Promise((r) => setTimeout(r, ms));
  expect(count()).toBe(before);
  return before;
}

function utcParts(d: Date) {
  return { s: d.getUTCSeconds(), m: d.getUTCMinutes(), h: d.getUTCHours(), D: d.getUTCDate(), M: d.getUTCMonth() + 1, Y: d.getUTCFullYear() };
}

describe('Period with rate(...) (time scale 300: rate(1m) fires every 200 ms)', () => {
  it('runs repeatedly, lists every run with IncludeHistory, and StopInvocation ends it', async () => {
    const c = await start(300);
    const res = await c.client.runCommand(runReq({ commandContent: 'echo "run at $(date +%s%N)"', repeatMode: 'Period', frequency: 'rate(1m)', timeout: 55 }));
    const invokeId = res.body.invokeId;
    // One event per finished run; wait for three.
    const events = await c.waitForEvents((e) => e.data.invokeId === invokeId, 3, 10_000);
    expect(events.slice(0, 3).map((e) => e.data.invocationStatus)).toEqual(['Success', 'Success', 'Success']);
    expect(events.every((e) => e.data.repeatMode === 'Period')).toBe(true);

    const inv = await describeInvocation(c, invokeId);
    expect(inv.repeatMode).toBe('Period');
    expect(inv.frequency).toBe('rate(1m)');
    expect(['Scheduled', 'Running']).toContain(inv.invocationStatus);
    expect(inv.invokeStatus).toBe('Running');
    expect(inv.invokeInstances.invokeInstance[0].repeats).toBeGreaterThanOrEqual(3);

    const runs = await history(c, invokeId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.map((r) => r.repeats)).toEqual(runs.map((_, i) => i + 1));
    for (const r of runs) {
      expect(r.invocationStatus).toBe('Success');
      expect(r.output).toMatch(/^run at \d+\n$/);
    }
    // Each run is its own execution: distinct outputs, start times in order.
    expect(new Set(runs.map((r) => r.output)).size).toBe(runs.length);
    const latest = await history(c, invokeId, false);
    expect(latest).toHaveLength(1);

    // Runs are about one (scaled) interval apart, not bunched together.
    const starts = c.emulator.agents.executionLog.filter((e) => e.invokeId === invokeId).map((e) => e.startedAt.getTime());
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(120);

    await c.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId }));
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.finished, 'the record is final');
    const after = await describeInvocation(c, invokeId);
    expect(after.invocationStatus).toBe('Stopped');
    expect(after.invokeStatus).toBe('Stopped');
    expect(['Cancelled', 'Terminated']).toContain(after.invokeInstances.invokeInstance[0].invocationStatus);
    // Four more intervals pass without a run.
    await expectNoMoreRuns(c, invokeId, 800);
    const finalEvents = c.events.filter((e) => e.data.invokeId === invokeId && ['Cancelled', 'Terminated'].includes(e.data.invocationStatus));
    expect(finalEvents).toHaveLength(1);
  });
});

describe('Period delivery', () => {
  it('a Period task for an offline agent or a Stopped instance is Aborted on delivery, not Scheduled until its first run', async () => {
    cloud = await startTestCloud({ notRunningInstance: 'abort-instance' });
    const c = cloud;
    const started = Date.now();
    const res = await c.client.runCommand(runReq({ commandContent: 'echo x', repeatMode: 'Period', frequency: 'rate(1h)', instanceId: [IDS.offline, IDS.stopped, IDS.web1] }));
    const events = await c.waitForFinal(res.body.invokeId, { count: 2, timeoutMs: 3_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const byId = Object.fromEntries(events.map((e) => [e.data.instanceId, e.data]));
    expect(byId[IDS.offline]).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'ClientNotRunning' });
    expect(byId[IDS.stopped]).toMatchObject({ invocationStatus: 'Aborted', errorCode: 'InstanceNotRunning' });
    const inv = await describeInvocation(c, res.body.invokeId);
    const statuses = Object.fromEntries(inv.invokeInstances.invokeInstance.map((r: any) => [r.instanceId, r.invocationStatus]));
    expect(statuses).toEqual({ [IDS.offline]: 'Aborted', [IDS.stopped]: 'Aborted', [IDS.web1]: 'Scheduled' });
  });
});

describe('Period with at(...) (time scale 300)', () => {
  it('runs exactly once at the given time, then the task is Success with one event and one history entry', async () => {
    const c = await start(300);
    // 60 s from now in the schedule's time = 200 ms of real time.
    const at = new Date(Date.now() + 60_000);
    const p = utcParts(at);
    const pad = (n: number) => String(n).padStart(2, '0');
    const frequency = `at(${p.Y}-${pad(p.M)}-${pad(p.D)} ${pad(p.h)}:${pad(p.m)}:${pad(p.s)} UTC)`;
    const res = await c.client.runCommand(runReq({ commandContent: 'echo once', repeatMode: 'Period', frequency, timeout: 30 }));
    const invokeId = res.body.invokeId;
    await c.waitForFinal(invokeId, { timeoutMs: 5_000 });
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.finished, 'the schedule ended');
    // The at time is 60 s away in real time; give the schedule five more scaled intervals to misbehave.
    const runsSoFar = await expectNoMoreRuns(c, invokeId, 500);
    expect(runsSoFar).toBe(1);
    const inv = await describeInvocation(c, invokeId);
    expect(inv.invocationStatus).toBe('Success');
    expect(inv.invokeInstances.invokeInstance[0].repeats).toBe(1);
    expect(inv.invokeInstances.invokeInstance[0].output).toBe('once\n');
    expect(await history(c, invokeId)).toHaveLength(1);
    expect(c.events.filter((e) => e.data.invokeId === invokeId)).toHaveLength(1);
  });
});

describe('Period with a cron expression (time scale 100)', () => {
  it('fires at the cron times of the scaled clock, three times, then ends', async () => {
    const c = await start(100);
    // Three runs 15 s apart, in the first whole minute that starts at least 2 s from now (UTC).
    const base = new Date(Math.ceil((Date.now() + 2_000) / 60_000) * 60_000);
    const p = utcParts(base);
    const frequency = `0,15,30 ${p.m} ${p.h} ${p.D} ${p.M} ? ${p.Y} UTC`;
    const res = await c.client.runCommand(runReq({ commandContent: 'echo tick', repeatMode: 'Period', frequency, timeout: 10 }));
    const invokeId = res.body.invokeId;
    // At most 92 s of schedule time = 0.92 s of real time.
    await c.waitForEvents((e) => e.data.invokeId === invokeId, 3, 8_000);
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.finished, 'the schedule ended', 5_000);
    expect(await expectNoMoreRuns(c, invokeId, 300)).toBe(3);
    const runs = await history(c, invokeId);
    expect(runs.map((r) => [r.repeats, r.invocationStatus, r.output])).toEqual([
      [1, 'Success', 'tick\n'],
      [2, 'Success', 'tick\n'],
      [3, 'Success', 'tick\n'],
    ]);
    const starts = c.emulator.agents.executionLog.filter((e) => e.invokeId === invokeId).map((e) => e.startedAt.getTime());
    // 15 s of schedule time apart = 150 ms.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(c.events.filter((e) => e.data.invokeId === invokeId)).toHaveLength(3);
    expect((await describeInvocation(c, invokeId)).invocationStatus).toBe('Success');
  });
});

describe('InvokeCommand with a Frequency', () => {
  it('checks the rate against an explicit Timeout, and refuses one not longer than the saved command\'s Timeout', async () => {
    const c = await start(300);
    const mk = (timeout: number) =>
      c.client.createCommand(new Models.CreateCommandRequest({ regionId: REGION, name: `t${timeout}`, type: 'RunShellScript', commandContent: Buffer.from('echo periodic').toString('base64'), timeout }));
    const long = await mk(600);
    const refused = await c.client
      .invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, commandId: long.body.commandId, instanceId: [IDS.web1], repeatMode: 'Period', frequency: 'rate(5m)' }))
      .catch((e: any) => e);
    expect(refused.code).toBe('InvalidParam.Frequency');
    expect(c.emulator.service.invocations.size).toBe(0);

    const short = await mk(30);
    const res = await c.client.invokeCommand(
      new Models.InvokeCommandRequest({ regionId: REGION, commandId: short.body.commandId, instanceId: [IDS.web1], repeatMode: 'Period', frequency: 'rate(1m)', timeout: 30 }),
    );
    const events = await c.waitForEvents((e) => e.data.invokeId === res.body.invokeId, 2, 8_000);
    expect(events.map((e) => e.data.invocationStatus)).toEqual(['Success', 'Success']);
    await c.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: res.body.invokeId }));
  });

  // Without a Timeout of its own, an invocation runs with the saved command's: that is what Frequency is checked against.
  it('accepts rate(1m) on a command saved with Timeout 30 when InvokeCommand gives no Timeout', async () => {
    const c = await start(300);
    const cmd = await c.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 't30', type: 'RunShellScript', commandContent: Buffer.from('true').toString('base64'), timeout: 30 }),
    );
    const res = await c.client.invokeCommand(
      new Models.InvokeCommandRequest({ regionId: REGION, commandId: cmd.body.commandId, instanceId: [IDS.web1], repeatMode: 'Period', frequency: 'rate(1m)' }),
    );
    expect(res.body.invokeId).toMatch(/^t-/);
    await c.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId: res.body.invokeId }));
  });

  it('refuses rate(5m) on a command saved with Timeout 600 when InvokeCommand gives no Timeout', async () => {
    const c = await start(300);
    const cmd = await c.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 't600', type: 'RunShellScript', commandContent: Buffer.from('true').toString('base64'), timeout: 600 }),
    );
    await expect(
      c.client.invokeCommand(new Models.InvokeCommandRequest({ regionId: REGION, commandId: cmd.body.commandId, instanceId: [IDS.web1], repeatMode: 'Period', frequency: 'rate(5m)' })),
    ).rejects.toMatchObject({ code: 'InvalidParam.Frequency', statusCode: 400 });
  });
});

describe('NextRebootOnly and EveryReboot', () => {
  it('NextRebootOnly waits Scheduled, runs on the next reboot only', async () => {
    const c = await start();
    const res = await c.client.runCommand(runReq({ commandContent: 'echo after-reboot', repeatMode: 'NextRebootOnly', instanceId: [IDS.web1, IDS.web2] }));
    const invokeId = res.body.invokeId;
    await c.waitUntil(() => [...c.emulator.service.invocations.get(invokeId)!.instances.values()].every((r) => r.current.status === 'Scheduled'), 'delivered');
    const inv = await describeInvocation(c, invokeId);
    expect(inv.invocationStatus).toBe('Scheduled');
    expect(inv.repeatMode).toBe('NextRebootOnly');
    expect(c.emulator.agents.executionLog).toEqual([]);

    expect(c.emulator.reboot(IDS.web1)).toBe(1);
    const [event] = await c.waitForEvents((e) => e.data.invokeId === invokeId, 1);
    expect(event!.data).toMatchObject({ instanceId: IDS.web1, invocationStatus: 'Success' });
    // Only web-1 rebooted; web-2 still waits.
    const mid = await describeInvocation(c, invokeId);
    const byId = Object.fromEntries(mid.invokeInstances.invokeInstance.map((r: any) => [r.instanceId, r]));
    expect(byId[IDS.web1].invocationStatus).toBe('Success');
    expect(byId[IDS.web1].output).toBe('after-reboot\n');
    expect(byId[IDS.web2].invocationStatus).toBe('Scheduled');

    // A second reboot of web-1 runs nothing.
    expect(c.emulator.reboot(IDS.web1)).toBe(0);
    const response = await fetch(`http://${c.emulator.endpoint}/_fleet/instances/${IDS.web2}/reboot`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ instanceId: IDS.web2, started: 1 });
    await c.waitForFinal(invokeId);
    expect((await describeInvocation(c, invokeId)).invocationStatus).toBe('Success');
    expect(c.emulator.agents.executionLog.filter((e) => e.invokeId === invokeId)).toHaveLength(2);
  });

  it('EveryReboot runs on every reboot (emulator.reboot and POST /_fleet/instances/<id>/reboot) until stopped', async () => {
    const c = await start();
    const res = await c.client.runCommand(runReq({ commandContent: 'echo boot', repeatMode: 'EveryReboot' }));
    const invokeId = res.body.invokeId;
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.current.status === 'Scheduled', 'delivered');

    expect(c.emulator.reboot(IDS.web1)).toBe(1);
    await c.waitForEvents((e) => e.data.invokeId === invokeId, 1);
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.current.status === 'Scheduled', 'waiting again');
    const viaHttp = await fetch(`http://${c.emulator.endpoint}/_fleet/instances/${IDS.web1}/reboot`, { method: 'POST' });
    expect(await viaHttp.json()).toEqual({ instanceId: IDS.web1, started: 1 });
    await c.waitForEvents((e) => e.data.invokeId === invokeId, 2);
    await c.waitUntil(() => c.emulator.service.invocations.get(invokeId)!.instances.get(IDS.web1)!.current.status === 'Scheduled', 'waiting again');

    const inv = await describeInvocation(c, invokeId);
    expect(inv.invocationStatus).toBe('Scheduled');
    expect(inv.invokeStatus).toBe('Running');
    expect(inv.invokeInstances.invokeInstance[0].repeats).toBe(2);
    const runs = await history(c, invokeId);
    expect(runs.map((r) => [r.repeats, r.invocationStatus, r.output])).toEqual([
      [1, 'Success', 'boot\n'],
      [2, 'Success', 'boot\n'],
    ]);

    await c.client.stopInvocation(new Models.StopInvocationRequest({ regionId: REGION, invokeId }));
    const stopped = await c.waitForEvents((e) => e.data.invokeId === invokeId, 3);
    expect(stopped[2]!.data.invocationStatus).toBe('Cancelled');
    expect(c.emulator.reboot(IDS.web1)).toBe(0);
    expect((await describeInvocation(c, invokeId)).invocationStatus).toBe('Stopped');
    expect(c.emulator.agents.executionLog.filter((e) => e.invokeId === invokeId)).toHaveLength(2);
  });

  it('the reboot control endpoint answers 404 for an unknown instance', async () => {
    const c = await start();
    const response = await fetch(`http://${c.emulator.endpoint}/_fleet/instances/i-nosuch00000/reboot`, { method: 'POST' });
    expect(response.status).toBe(404);
  });
});
