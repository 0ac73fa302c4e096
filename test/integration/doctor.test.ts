/**
 * `fleetrun doctor` run as a user runs it (`node bin/fleetrun.js doctor …` in a shell with only
 * the deploying variables): the shipped s.yaml with a complete shell passes; broken copies of it,
 * of the shell and of the policy each fail, naming their problem.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYING_SHELL } from '../support/deploying-shell.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/fleetrun.js');

const SHELL: Record<string, string> = { ...DEPLOYING_SHELL };

let dir: string;
let shippedSYaml: string;
let shippedPolicy: { Version: string; Statement: { Sid?: string; Action: string | string[]; [k: string]: unknown }[] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-doctor-'));
  // The changed copies of s.yaml read the stack's template and policies beside them, as the shipped one does.
  await cp(path.join(ROOT, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
  shippedSYaml = await readFile(path.join(ROOT, 's.yaml'), 'utf8');
  shippedPolicy = JSON.parse(await readFile(path.join(ROOT, 'deploy/ram-policy.json'), 'utf8')) as typeof shippedPolicy;
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
}

/** The command in a shell holding only PATH, HOME and `shell`. */
async function doctor(args: string[], shell: Record<string, string> = SHELL): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...shell };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'doctor', ...args], { env, cwd: dir });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** A copy of s.yaml with `edit` applied; the edit must change something. */
async function sYamlWith(name: string, edit: (text: string) => string): Promise<string> {
  const text = edit(shippedSYaml);
  expect(text, `${name}: the edit changed nothing`).not.toBe(shippedSYaml);
  const file = path.join(dir, `${name}.s.yaml`);
  await writeFile(file, text);
  return file;
}

describe('fleetrun doctor', () => {
  it('passes the shipped s.yaml and policy with a complete shell, and says so', async () => {
    const run = await doctor([]);
    expect(run.out).toMatch(/Nothing is missing/);
    expect(run.out).not.toMatch(/^  ✗ /m);
    expect(run.out).toMatch(/chat platforms on: slack, dingtalk, lark, webhook/);
    expect(run.out).toMatch(/the role's policy allows all \d+ calls/);
    expect(run.code).toBe(0);
  }, 30_000);

  it('--json: ok and every finding with its check and level', async () => {
    const run = await doctor(['--json']);
    const report = JSON.parse(run.out) as { ok: boolean; findings: { check: string; level: string; message: string }[] };
    expect(report.ok).toBe(true);
    expect(new Set(report.findings.map((f) => f.check))).toEqual(new Set(['s.yaml', 'environment', 'policy']));
    expect(report.findings.filter((f) => f.level === 'problem')).toEqual([]);
    expect(run.code).toBe(0);
  }, 30_000);

  it('warns, without failing, when FLEETRUN_PUBLIC_URL is unset', async () => {
    const { FLEETRUN_PUBLIC_URL: _url, ...shell } = SHELL;
    const run = await doctor([], shell);
    expect(run.out).toMatch(/! FLEETRUN_PUBLIC_URL is not set .*presigned OSS links that stop working when the function role's STS token expires/);
    expect(run.code).toBe(0);
  }, 30_000);

  it('warns, without failing, when the webhook is on and no callback origin is listed', async () => {
    const { FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: _origins, ...shell } = SHELL;
    const run = await doctor([], shell);
    expect(run.out).toMatch(/! the signed webhook is on, but FLEETRUN_WEBHOOK_CALLBACK_ORIGINS is not set: .*CallbackNotAllowed/);
    expect(run.code).toBe(0);
    expect((await doctor([])).out).not.toMatch(/FLEETRUN_WEBHOOK_CALLBACK_ORIGINS is not set/);
  }, 30_000);

  it('names a function with instanceConcurrency 10 on a built-in runtime', async () => {
    const file = await sYamlWith('concurrency', (t) => t.replace('      functionName: fleetrun-dispatch\n', '      functionName: fleetrun-dispatch\n      instanceConcurrency: 10\n'));
    const run = await doctor(['--s-yaml', file]);
    expect(run.out).toMatch(/✗ function fleetrun-dispatch: instanceConcurrency 10 on runtime nodejs20: .*Remove instanceConcurrency/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a prop the fc3 schema refuses (runtime nodejs99), with the allowed values', async () => {
    const file = await sYamlWith('runtime', (t) => t.replace(/(functionName: fleetrun-summarize[\s\S]*?)runtime: nodejs20/, '$1runtime: nodejs99'));
    const run = await doctor(['--s-yaml', file]);
    expect(run.out).toMatch(/✗ resources\.summarize\.props\.runtime must be equal to one of the allowed values: one of .*nodejs20.* \(the fc3 component's schema\)/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a missing FLEETRUN_SEAL_KEY and how to make one', async () => {
    const { FLEETRUN_SEAL_KEY: _key, ...shell } = SHELL;
    const run = await doctor([], shell);
    expect(run.out).toMatch(/✗ FLEETRUN_SEAL_KEY is not set \(fleetrun-chatops, fleetrun-dispatch, fleetrun-summarize, fleetrun-task-events, fleetrun-schedule read it\).*openssl rand/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a seal key shorter than its minimum', async () => {
    const run = await doctor([], { ...SHELL, FLEETRUN_SEAL_KEY: 'too-short' });
    expect(run.out).toMatch(/✗ FLEETRUN_SEAL_KEY is 9 characters long; it must have at least 16/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a function s.yaml does not give a secret the others get', async () => {
    const file = await sYamlWith('lark', (t) => t.replace(/(functionName: fleetrun-summarize[\s\S]*?)\n        FLEETRUN_LARK_APP_SECRET: [^\n]*/, '$1'));
    const run = await doctor(['--s-yaml', file]);
    expect(run.out).toMatch(/✗ fleetrun-summarize: FLEETRUN_LARK_APP_SECRET is given to other functions but not to this one/);
    expect(run.out).toMatch(/✗ fleetrun-summarize: cannot send Lark replies/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('says which platforms are off, and fails when none is on', async () => {
    const some = await doctor([], { FLEETRUN_SEAL_KEY: SHELL.FLEETRUN_SEAL_KEY!, FLEETRUN_WEBHOOK_SECRET: 'w', FLEETRUN_PUBLIC_URL: SHELL.FLEETRUN_PUBLIC_URL! });
    expect(some.out).toMatch(/chat platforms on: webhook; off: slack \(set FLEETRUN_SLACK_SIGNING_SECRET\), dingtalk/);
    expect(some.code).toBe(0);
    const none = await doctor([], { FLEETRUN_SEAL_KEY: SHELL.FLEETRUN_SEAL_KEY! });
    expect(none.out).toMatch(/✗ fleetrun-chatops serves no chat platform/);
    expect(none.code).toBe(1);
  }, 30_000);

  it('names each action a function needs that the policy refuses (--policy FILE)', async () => {
    const Statement = shippedPolicy.Statement.map((s) => ({ ...s, Action: (Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => a !== 'mns:SendMessage' && a !== 'fc:InvokeFunction') })).filter((s) => s.Action.length > 0);
    const file = path.join(dir, 'policy.json');
    await writeFile(file, JSON.stringify({ ...shippedPolicy, Statement }));
    const run = await doctor(['--policy', file]);
    expect(run.out).toMatch(/✗ fleetrun-task-events, fleetrun-schedule need mns:SendMessage on acs:mns:cn-hangzhou:\*:\/queues\/fleetrun-results\/messages .* refuses it/);
    expect(run.out).toMatch(/✗ fleetrun-chatops needs fc:InvokeFunction on acs:fc:cn-hangzhou:\*:functions\/fleetrun-dispatch .* refuses it/);
    expect(run.out.match(/^  ✗ /gm)).toHaveLength(2);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a policy that scopes a bucket to another name', async () => {
    const file = path.join(dir, 'policy-bucket.json');
    await writeFile(file, JSON.stringify(shippedPolicy).replaceAll('fleetrun-runs', 'someone-elses-bucket'));
    const run = await doctor(['--policy', file, '--account-id', '1234567890123456']);
    expect(run.out).toMatch(/need oss:PutObject on acs:oss:\*:1234567890123456:fleetrun-runs\/\*/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a role whose trust policy does not let FC assume it', async () => {
    await writeFile(path.join(dir, 'untrusting.json'), JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } }] }));
    const file = await sYamlWith('untrusting', (t) => t.replace("${file('./deploy/ram-trust-policy.json')}", "${file('./untrusting.json')}"));
    const run = await doctor(['--s-yaml', file]);
    expect(run.out).toMatch(/✗ the role fleetrun-fc-role \(stack fleetrun-cloud, FunctionRole\) does not let fc\.aliyuncs\.com assume it/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a stack parameter the template refuses (a retention of 0 days)', async () => {
    const run = await doctor([], { ...SHELL, FLEETRUN_RUN_RETENTION_DAYS: '0' });
    expect(run.out).toMatch(/InvalidParameter: parameter RunRetentionDays must be at least 1, got 0/);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names a policy file that is not a RAM policy, once', async () => {
    const file = path.join(dir, 'policy-empty.json');
    await writeFile(file, JSON.stringify({ Version: '1', Statement: [] }));
    const run = await doctor(['--policy', file]);
    expect(run.out.match(/^  ✗ .*/gm)).toEqual([expect.stringMatching(/✗ RAM policy .*policy-empty\.json: Statement: /)]);
    expect(run.code).toBe(1);
  }, 30_000);

  it('names an s.yaml it cannot read', async () => {
    const run = await doctor(['--s-yaml', path.join(dir, 'absent.yaml')]);
    expect(run.out).toMatch(/✗ cannot read .*absent\.yaml/);
    expect(run.code).toBe(1);
  }, 30_000);
});
