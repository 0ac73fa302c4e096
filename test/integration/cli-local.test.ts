/**
 * `fleetrun local` as a user starts it: a child process that prints its endpoints, serves the SDK,
 * and on SIGTERM stops leaving no process behind (including scripts it was running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/fleetrun.js');

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A dead process can wait here for a late reaper; its state then reads Z.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
}

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

describe('fleetrun local', () => {
  let dir: string;
  let child: ChildProcess;
  let out = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-cli-'));
    await writeFile(
      path.join(dir, 'fleet.yaml'),
      'instances:\n  - { id: i-cli00000001, name: cli-1, tags: { env: cli } }\n  - { id: i-cli00000002, name: cli-2, status: Stopped }\n',
    );
    child = spawn(process.execPath, [BIN, 'local', '--fleet', path.join(dir, 'fleet.yaml'), '--access-key', 'cli-key:cli-secret', '--sandbox', path.join(dir, 'sandbox')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one line per service, serves the SDK, and leaves nothing behind on SIGTERM', async () => {
    const endpoint = await waitFor(() => /^ecs\s+http:\/\/(127\.0\.0\.1:\d+)$/m.exec(out)?.[1], 20_000);
    expect(out).toMatch(/^fleet\s+2 instances/m);
    expect(out).not.toContain('cli-secret');

    const ca = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint, protocol: 'http', credentials: { accessKeyId: 'cli-key', accessKeySecret: 'cli-secret' } });
    const instances = await ca.describeInstances({});
    expect(instances.map((i) => [i.instanceId, i.status])).toEqual([
      ['i-cli00000001', 'Running'],
      ['i-cli00000002', 'Stopped'],
    ]);
    // A script that keeps a child of its own alive: stopping the cloud must end both.
    await ca.runCommand({
      RegionId: 'cn-hangzhou',
      Type: 'RunShellScript',
      CommandContent: 'sleep 120 & echo $$ $! > pids; wait',
      InstanceId: ['i-cli00000001'],
      Timeout: 600,
    });
    const pidFile = path.join(dir, 'sandbox', 'i-cli00000001', 'root', 'pids');
    const pids = await waitFor(async () => {
      const text = await readFile(pidFile, 'utf8').catch(() => '');
      return text.trim() ? text.trim().split(/\s+/).map(Number) : undefined;
    }, 10_000);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await alive(pid)).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) await waitFor(async () => ((await alive(pid)) ? undefined : true), 5_000);
    // The port is closed once the process is gone.
    await expect(ca.describeInstances({})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a bad fault configuration with a usage error', async () => {
    const bad = spawn(process.execPath, [BIN, 'local', '--no-functions', '--faults', '{"throttleRate":2}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--faults: throttleRate');
  });

  it('refuses a bad option with a usage error', async () => {
    const bad = spawn(process.execPath, [BIN, 'local', '--ecs-port', 'seventy'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--ecs-port');
  });
});
