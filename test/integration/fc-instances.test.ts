/**
 * The local FC host runs functions as FC 3.0 runs them: an instance serves one invocation at a
 * time on a built-in runtime, so concurrent invocations get instances of their own (up to the
 * host's per-function bound) and an idle one is reused; each instance works in an empty folder of
 * its own, may not write its code folder and may write its TMPDIR; it carries its role's
 * credentials; and a function FC 3.0 would refuse (instanceConcurrency on nodejs20) is refused.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../local/eventbridge/bus.ts';
import { startFcHost, type FcHost } from '../../local/fc/host.ts';
import { parseSYaml } from '../../local/fc/s-yaml.ts';
import { ACCOUNT_ID, FIXTURE_ROOT, startFixtureHost } from './fc-host-fixture.ts';

interface Probe {
  pid: number;
  cwd: string;
  codePath: string;
  tmp: string;
  codeWrite: string;
  tmpWrite: string;
  credentials: Record<string, string>;
  envKeyId: string;
  envToken: string | null;
}

let host: FcHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const probe = (h: FcHost, holdMs = 0) => h.invoke('sandbox-probe', { holdMs }) as Promise<Probe>;

describe('Local FC host: instances as FC 3.0 runs them', () => {
  it('an instance starts in an empty folder of its own, cannot write its code folder, and writes its own TMPDIR', async () => {
    ({ host } = await startFixtureHost());
    const p = await probe(host);
    const codeFolder = path.join(FIXTURE_ROOT, 'functions', 'sandbox-probe');
    expect(p.codePath).toBe(codeFolder);
    expect(p.cwd).not.toBe(codeFolder);
    expect(p.cwd.startsWith(codeFolder)).toBe(false);
    expect(p.codeWrite).toBe('ERR_ACCESS_DENIED');
    expect(existsSync(path.join(codeFolder, `written-by-${p.pid}.txt`))).toBe(false);
    expect(p.tmpWrite).toBe('written');
    expect(path.dirname(p.tmp)).toBe(path.dirname(p.cwd));
  });

  it('concurrent invocations get instances of their own (no queueing behind a long one); an idle instance is reused warm', async () => {
    ({ host } = await startFixtureHost());
    const fn = host.functions.get('sandbox-probe')!;
    let longDone = false;
    const long = probe(host, 6000).finally(() => (longDone = true));
    // The second call must not wait for the first: it answers while the first still runs.
    const short = await probe(host, 0);
    expect(longDone).toBe(false);
    const first = await long;
    expect(short.pid).not.toBe(first.pid);
    expect(short.tmp).not.toBe(first.tmp);
    expect(fn.stats.coldStarts).toBe(2);
    expect(fn.instanceCount).toBe(2);
    // Both idle now: the next calls reuse them, no cold start.
    const again = await Promise.all([probe(host), probe(host)]);
    expect(new Set(again.map((a) => a.pid))).toEqual(new Set([first.pid, short.pid]));
    expect(fn.stats).toMatchObject({ coldStarts: 2, invocations: 4, crashes: 0, timeouts: 0 });
    expect(fn.pids.sort()).toEqual([first.pid, short.pid].sort());
    // CPU is accounted over both instances (each loaded the function: well over a millisecond each).
    expect(fn.cpuUs).toBeGreaterThan(2_000);
  });

  it('maxInstancesPerFunction bounds the instances: past it an invocation waits for a free one', async () => {
    ({ host } = await startFixtureHost({ host: { maxInstancesPerFunction: 1 } }));
    const fn = host.functions.get('sandbox-probe')!;
    const started = Date.now();
    const both = await Promise.all([probe(host, 400), probe(host, 400)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(both[0]!.pid).toBe(both[1]!.pid);
    expect(fn.stats.coldStarts).toBe(1);
  });

  it('kill() ends every instance; an invocation in flight fails as FunctionCrashed and the next one starts afresh', async () => {
    ({ host } = await startFixtureHost());
    const fn = host.functions.get('sandbox-probe')!;
    const inFlight = [probe(host, 3000), probe(host, 3000)].map((p) => p.then(() => 'answered', (e: Error) => e.message));
    // Both instances loaded and running their invocation (the count goes up once an instance is ready).
    for (const until = Date.now() + 20_000; fn.stats.invocations < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(fn.instanceCount).toBe(2);
    fn.kill();
    for (const outcome of await Promise.all(inFlight)) expect(outcome).toMatch(/process exited .* during the invocation/);
    expect(fn.stats.crashes).toBe(2);
    expect(fn.pid).toBeUndefined();
    const fresh = await probe(host);
    expect(fresh.pid).toBe(fn.pid);
    expect(fn.stats.coldStarts).toBe(3);
  });

  it("each function carries its s.yaml role's credentials (roleCredentials), in its env and its context", async () => {
    const asked: string[] = [];
    host = await startRoleOnlyHost((role, functionName) => {
      asked.push(`${functionName} ${role}`);
      return { accessKeyId: `STS.${functionName}`, accessKeySecret: 'role-secret', securityToken: 'role-token' };
    });
    const p = await probe(host);
    expect(asked).toEqual([`sandbox-probe acs:ram::${ACCOUNT_ID}:role/fixture-role`]);
    expect(p.envKeyId).toBe('STS.sandbox-probe');
    expect(p.envToken).toBe('role-token');
    expect(p.credentials).toEqual({ accessKeyId: 'STS.sandbox-probe', accessKeySecret: 'role-secret', securityToken: 'role-token' });
  });

  it('with roleCredentials, a function whose s.yaml names no role gets no credentials, as on FC', async () => {
    ({ host } = await startFixtureHost({ host: { roleCredentials: () => ({ accessKeyId: 'STS.x', accessKeySecret: 'y' }) } }));
    // async-sink names no role; sandbox-probe names one.
    expect(host.functions.get('async-sink')!.options.env.ALIBABA_CLOUD_ACCESS_KEY_ID).toBeUndefined();
    expect(host.functions.get('async-sink')!.options.context.credentials).toEqual({ accessKeyId: '', accessKeySecret: '' });
    expect(host.functions.get('sandbox-probe')!.options.env.ALIBABA_CLOUD_ACCESS_KEY_ID).toBe('STS.x');
  });

  it('a role that gives no credentials: the host refuses to load the function, naming the role', async () => {
    const error = await startRoleOnlyHost(() => {
      throw new Error('no such role');
    }).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toBe(`function sandbox-probe: role acs:ram::${ACCOUNT_ID}:role/fixture-role gives no credentials: no such role`);
  });

  it('instanceConcurrency above 1 on nodejs20 is refused, naming the function, the key and the reason; a custom runtime may set it', async () => {
    const sYaml = (runtime: string) =>
      parseSYaml(
        `edition: 3.0.0\nname: t\nresources:\n  f:\n    component: fc3\n    props:\n      region: cn-hangzhou\n      functionName: busy\n      runtime: ${runtime}\n      code: ./dist/sandbox-probe\n      instanceConcurrency: 10\n`,
        { env: {}, config: {}, baseDir: FIXTURE_ROOT },
      );
    const start = (runtime: string) =>
      startFcHost({ sYaml: sYaml(runtime), projectRoot: FIXTURE_ROOT, mode: 'source', env: {}, credentials: { accessKeyId: 'a', accessKeySecret: 's' }, accountId: ACCOUNT_ID, bus: new EventBus(), timers: false, log: () => {} });
    const error = await start('nodejs20').then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/^function busy: instanceConcurrency 10 on runtime nodejs20: Function Compute 3\.0's standard \(built-in\) runtimes no longer support instance concurrency; only custom runtimes/);
    host = await start('custom.debian10');
    expect(host.functions.get('busy')!.options.concurrency).toBe(10);
  });
});

/** A host with the fixture's role-bearing function alone. */
async function startRoleOnlyHost(roleCredentials: (role: string, fn: string) => { accessKeyId: string; accessKeySecret: string; securityToken?: string } = (_r, fn) => ({ accessKeyId: `STS.${fn}`, accessKeySecret: 'role-secret', securityToken: 'role-token' })): Promise<FcHost> {
  const text = `edition: 3.0.0\nname: t\nresources:\n  probe:\n    component: fc3\n    props:\n      region: cn-hangzhou\n      functionName: sandbox-probe\n      runtime: nodejs20\n      code: ./dist/sandbox-probe\n      timeout: 5\n      role: acs:ram::${ACCOUNT_ID}:role/fixture-role\n`;
  return startFcHost({
    sYaml: parseSYaml(text, { env: {}, config: {}, baseDir: FIXTURE_ROOT }),
    projectRoot: FIXTURE_ROOT,
    mode: 'source',
    env: {},
    credentials: { accessKeyId: 'host-ak', accessKeySecret: 'host-secret' },
    roleCredentials,
    accountId: ACCOUNT_ID,
    bus: new EventBus(),
    timers: false,
    log: () => {},
  });
}
