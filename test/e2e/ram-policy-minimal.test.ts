/**
 * deploy/ram-policy.json is exactly what the product needs: with the whole policy every path below
 * runs without a single refused call; with any one action removed from it (one statement at a
 * time), the path that needs the action fails, refused with the service's own access-denied code.
 * One local cloud; the role's policy is swapped between runs (local/ram, docs/ram.md).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { DEMO_CHAT, PROJECT_ROOT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread } from '../../local/cli/chat-thread.ts';
import type { RamIdentities } from '../../local/ram/identities.ts';
import { startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const ROLE = 'fleetrun-fc-role';
const POLICY = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'deploy/ram-policy.json'), 'utf8')) as { Version: string; Statement: { Sid?: string; Action: string[]; [k: string]: unknown }[] };
const IDS = ['i-bp1ramtest0000', 'i-bp1ramtest0001', 'i-bp1ramtest0002'];
// The demo access policy lets runs target only by tag: the first instance alone carries role=solo.
const FLEET = `instances:\n${IDS.map((id, i) => `  - { id: ${id}, name: web-${i}, tags: { env: demo, role: ${i === 0 ? 'solo' : 'web'} } }`).join('\n')}\n`;
const NATIVE_JOB = 'ram-native';
/** The code each service answers a refused call with. */
const DENIED_CODE: Record<string, RegExp> = { ram: /403 CreateServiceLinkedRole\.NoPermission/, ecs: /403 Forbidden\.RAM/, oss: /403 AccessDenied/, mns: /403 AccessDenied/, fc: /403 AccessDenied/ };

interface Outcome {
  ok: boolean;
  detail: string;
}

let pc: PipelineCloud;
let ram: RamIdentities;
let dir: string;
const lines: string[] = [];
const callbacks: { text: string; link?: { url: string } }[] = [];
let thread: ChatThread;
let callbackUrl: string;
let chatUrl: string;

beforeAll(async () => {
  // The webhook's thread as a user runs it: follow-ups are signed, and unsigned ones are dropped.
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (m) => callbacks.push({ text: m.message, ...(m.link ? { link: m.link } : {}) }));
  callbackUrl = thread.url;
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-ram-min-'));
  // Only a native job: a tick then makes CreateCommand / InvokeCommand / StopInvocation calls and starts no timer runs.
  await writeFile(path.join(dir, 'jobs.yaml'), `jobs:\n  - name: ${NATIVE_JOB}\n    command: uptime\n    targets: { tags: { env: demo } }\n    frequency: rate(30m)\n    mode: native\n`);
  pc = await startPipelineCloud(FLEET, {
      functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '60' },
    chat: { FLEETRUN_JOBS_FILE: path.join(dir, 'jobs.yaml') },
    log: (l) => lines.push(l),
  });
  ram = pc.cloud.ram!;
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function setPolicy(document: unknown): void {
  ram.setPolicies(ROLE, [{ document, source: 'deploy/ram-policy.json (as the test set it)' }]);
}

/** The deployment policy with one action taken out of one statement (a statement left empty goes). */
function without(statement: number, action: string): unknown {
  const Statement = POLICY.Statement.map((s, i) => (i === statement ? { ...s, Action: s.Action.filter((a) => a !== action) } : s)).filter((s) => s.Action.length > 0);
  return { ...POLICY, Statement };
}

/** Waits for `done`, or gives up 2 s after `refused` turns true (a refused path does not recover), or at the deadline. */
async function until(done: () => boolean, refused: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let refusedAt: number | undefined;
  while (Date.now() < deadline) {
    if (done()) return true;
    if (refused()) refusedAt ??= Date.now();
    if (refusedAt !== undefined && Date.now() - refusedAt > 2000) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return done();
}

/** A signed chat command whose run must end in a final reply whose report link opens. */
async function chatRun(text: string, reads: { calls: 'DescribeInvocations' | 'DescribeInvocationResults' | 'none' }): Promise<Outcome> {
  const deniedBefore = ram.denials.length;
  const readsBefore = { DescribeInvocations: pc.cloud.ecs.calls.DescribeInvocations ?? 0, DescribeInvocationResults: pc.cloud.ecs.calls.DescribeInvocationResults ?? 0 };
  // A delivery id of its own: the same command signed twice in one second would be refused as a replay.
  const body = JSON.stringify({ user: 'demo-ci', text, callbackUrl, id: randomUUID() });
  const ack = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  const ackBody = (await ack.json()) as { message?: string };
  const runId = /Run (r-[a-z0-9-]+) started/.exec(ackBody.message ?? '')?.[1];
  if (!runId) return { ok: false, detail: `no run started: ${ack.status} ${JSON.stringify(ackBody)}` };
  const final = () => callbacks.find((c) => c.link && c.text.includes(runId));
  await until(() => final() !== undefined, () => ram.denials.length > deniedBefore, 30_000);
  const reply = final();
  if (!reply) return { ok: false, detail: `run ${runId}: no final reply` };
  if (!/: Success — \d+ succeeded/.test(reply.text)) return { ok: false, detail: `run ${runId}: ${reply.text}` };
  // chatops' own link: chatops reads the report from the private bucket with the role's keys and serves it.
  if (!reply.link!.url.startsWith(`${chatUrl}/reports/${runId}?`)) return { ok: false, detail: `run ${runId}: the report link is not chatops' own: ${reply.link!.url}` };
  const report = await fetch(reply.link!.url);
  if (report.status !== 200) return { ok: false, detail: `run ${runId}: report link answered ${report.status}: ${(await report.text()).slice(0, 300)}` };
  if (report.headers.get('content-type') !== 'text/html; charset=utf-8') return { ok: false, detail: `run ${runId}: the report came as ${report.headers.get('content-type')}` };
  // The path under test, not another one: outputs read from OSS make no ECS read; fetched ones make the expected one.
  const made = (name: 'DescribeInvocations' | 'DescribeInvocationResults') => (pc.cloud.ecs.calls[name] ?? 0) - readsBefore[name];
  if (reads.calls === 'none' && made('DescribeInvocations') + made('DescribeInvocationResults') > 0) return { ok: false, detail: `run ${runId}: outputs were read from ECS, not OSS` };
  if (reads.calls !== 'none' && made(reads.calls) === 0) return { ok: false, detail: `run ${runId}: no ${reads.calls} call` };
  // A finished run leaves no marker behind: a pending hand-off would be dispatched again by the schedule tick.
  const markers = [runKeys.pendingDispatch(runId), runKeys.openMarker(runId)];
  const left = async () => (await Promise.all(markers.map(async (k) => ((await pc.store.get(k)) ? k : undefined)))).filter(Boolean);
  const deadline = Date.now() + 5000;
  while ((await left()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const remaining = await left();
  if (remaining.length > 0) return { ok: false, detail: `run ${runId}: finished but left ${remaining.join(', ')}` };
  return { ok: true, detail: `run ${runId}: ${reply.text.split('\n')[0]}` };
}

type NativeOutcome = { job: string; action: string; invokeIds: string[]; stoppedInvokeIds: string[]; error?: string };

async function scheduleTick(): Promise<NativeOutcome | undefined> {
  const tick = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { jobs?: { native?: NativeOutcome[] } };
  return tick.jobs?.native?.find((o) => o.job === NATIVE_JOB);
}

/** The native job made afresh: the user's own key clears what the schedule function remembers of it first. */
async function nativeCreated(): Promise<Outcome> {
  for await (const o of pc.store.list('schedule/native')) await pc.store.delete(o.key);
  const outcome = await scheduleTick();
  return { ok: outcome?.action === 'created' && outcome.invokeIds.length > 0, detail: JSON.stringify(outcome) };
}

/** The native job replaced (its remembered fingerprint no longer matches): a new invocation, the old one stopped. */
async function nativeReplaced(): Promise<Outcome> {
  const key = `schedule/native/${NATIVE_JOB}.json`;
  const state = JSON.parse((await pc.store.get(key))!.toString()) as Record<string, unknown>;
  await pc.store.put(key, JSON.stringify({ ...state, fingerprint: 'changed-by-the-test' }));
  const outcome = await scheduleTick();
  return { ok: outcome?.action === 'replaced' && outcome.stoppedInvokeIds.length > 0, detail: JSON.stringify(outcome) };
}

interface Path {
  name: string;
  prepare?: () => Promise<Outcome>;
  run: () => Promise<Outcome>;
}

const PATHS = {
  chatRunDelivered: { name: 'chat run, outputs delivered to OSS, report link', run: () => chatRun('run web-healthcheck on env=demo', { calls: 'none' }) },
  secretRunOne: { name: 'chat run with a secret on one instance (outputs fetched)', run: () => chatRun('run secret-probe on env=demo role=solo with token=abcd1234', { calls: 'DescribeInvocationResults' }) },
  // Several instances' outputs fetched: task-events reads the whole invocation once, for every instance of the function (result-fetcher.ts).
  secretRunFleet: { name: 'chat run with a secret on three instances (outputs fetched together)', run: () => chatRun('run secret-probe on env=demo with token=abcd1234', { calls: 'DescribeInvocations' }) },
  firstDelivery: {
    name: 'chat run delivering outputs to OSS for the first time (the service-linked role created on the way)',
    run: () => {
      pc.cloud.ecs.serviceLinkedRole.delete();
      return chatRun('run web-healthcheck on env=demo', { calls: 'none' });
    },
  },
  nativeCreated: { name: 'schedule tick creating a native job', run: nativeCreated },
  nativeReplaced: { name: 'schedule tick replacing a native job', prepare: nativeCreated, run: nativeReplaced },
} satisfies Record<string, Path>;

/** The cheapest path that needs each action of the policy. */
const PATH_OF: Record<string, Path> = {
  'ecs:RunCommand': PATHS.chatRunDelivered,
  'ecs:DescribeInstances': PATHS.chatRunDelivered,
  'ecs:DescribeCloudAssistantStatus': PATHS.chatRunDelivered,
  'ecs:InvokeCommand': PATHS.nativeCreated,
  'ecs:CreateCommand': PATHS.nativeCreated,
  'ecs:StopInvocation': PATHS.nativeReplaced,
  'ecs:DescribeInvocationResults': PATHS.secretRunOne,
  'ecs:DescribeInvocations': PATHS.secretRunFleet,
  'mns:SendMessage': PATHS.chatRunDelivered,
  'oss:PutObject': PATHS.chatRunDelivered,
  'oss:GetObject': PATHS.chatRunDelivered,
  'oss:DeleteObject': PATHS.chatRunDelivered,
  'oss:ListObjects': PATHS.chatRunDelivered,
  'fc:InvokeFunction': PATHS.chatRunDelivered,
  'ram:CreateServiceLinkedRole': PATHS.firstDelivery,
};

const CASES = POLICY.Statement.flatMap((s, statement) => s.Action.map((action) => ({ statement, sid: s.Sid ?? `#${statement + 1}`, action })));

describe('deploy/ram-policy.json', () => {
  it('is enough: every path runs with the whole policy and no call is refused', async () => {
    setPolicy(POLICY);
    const deniedBefore = ram.denials.length;
    for (const p of Object.values(PATHS) as Path[]) {
      if (p.prepare) expect((await p.prepare()).ok, `${p.name}: preparing`).toBe(true);
      const outcome = await p.run();
      expect(outcome.ok, `${p.name}: ${outcome.detail}`).toBe(true);
    }
    expect(ram.denials.slice(deniedBefore)).toEqual([]);
  }, 180_000);

  it('names only actions some path needs', () => {
    expect(CASES.filter((c) => !PATH_OF[c.action]).map((c) => c.action)).toEqual([]);
  });

  it.each(CASES)('without $action in $sid, a run fails with the service’s access-denied code', async ({ statement, action }) => {
    const path = PATH_OF[action]!;
    setPolicy(POLICY);
    if (path.prepare) expect((await path.prepare()).ok, `${path.name}: preparing with the whole policy`).toBe(true);
    const deniedBefore = ram.denials.length;
    const linesBefore = lines.length;
    setPolicy(without(statement, action));
    let outcome: Outcome;
    try {
      outcome = await path.run();
    } finally {
      setPolicy(POLICY);
    }
    const refused = ram.denials.slice(deniedBefore).filter((d) => d.action.toLowerCase() === action.toLowerCase());
    expect(outcome.ok, `${path.name} should fail without ${action}: ${outcome.detail}`).toBe(false);
    expect(refused.length, `${action} was never refused (refused: ${ram.denials.slice(deniedBefore).map((d) => d.action).join(', ') || 'nothing'}; the run: ${outcome.detail})`).toBeGreaterThan(0);
    const service = action.split(':')[0]!;
    const answered = lines.slice(linesBefore).filter((l) => DENIED_CODE[service]!.test(l));
    expect(answered.length, `no ${service} answer with ${DENIED_CODE[service]}`).toBeGreaterThan(0);
    // Let what the refused run left behind settle before the next case swaps the policy again.
    await new Promise((r) => setTimeout(r, 500));
  }, 60_000);
});
