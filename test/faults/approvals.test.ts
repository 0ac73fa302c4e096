/**
 * Approvals on the local cloud (issue 15 part 4): a policy rule with `approval: required` holds
 * each run, answered "waiting for approval" with nothing dispatched. Then the faults: an approval
 * replayed (the replay guard refuses the copy; the run starts once), an approval after expiry
 * (refused; nothing runs), two approvers racing (the run starts once) and the requester approving
 * their own run (refused with the reason). Every decision is in the audit record: the request
 * with what the run would do (targets, parameters — secret ones by name only — and limits).
 * Expiry is a decision the schedule tick records: a run left waiting past its time gets the
 * `expired` decision, its audit record and a message in its thread, once however often the tick
 * fires, and can never start after that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, signedWebhook, type SignedWebhook } from '../support/demo-webhook.ts';
import type { ChatThread } from '../../local/cli/chat-thread.ts';
import { waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { startChatCloud, type ChatCloud } from '../support/chat-cloud.ts';

const FLEET = `instances:
${Array.from({ length: 2 }, (_, i) => `  - { id: i-bp1approve000${i}, name: web-${i}, tags: { env: demo, role: web } }`).join('\n')}
`;
// Short enough to wait out in a test; the other cases approve at once.
const TTL_SECONDS = 8;
const POLICY = `rules:
  - name: gated
    users: ['webhook:demo-ci', 'webhook:demo-web', 'webhook:demo-ops', 'webhook:demo-viewer']
    commands: ['*']
    targets: { tags: { env: [demo] } }
    maxTargets: 10
    approval: required
    approvers: ['webhook:demo-ci', 'webhook:demo-web', 'webhook:demo-ops']
`;

let chat: ChatCloud;
let pc: PipelineCloud;
let chatUrl: string;
let thread: ChatThread;
/** What fleetrun posted to the thread. */
const posted: string[] = [];

beforeAll(async () => {
  chat = await startChatCloud(FLEET, { policy: POLICY, onReply: (reply) => posted.push(reply.message), functionEnv: { FLEETRUN_APPROVAL_TTL_SECONDS: String(TTL_SECONDS) } });
  ({ pc, chatUrl, thread } = chat);
}, 60_000);

afterAll(async () => chat?.close());

const signed = (text: string, user: string) => signedWebhook(text, user, thread.url);
const send = (request: SignedWebhook) => postWebhook(chatUrl, request);

const webhook = (text: string, user: string) => send(signed(text, user));

/** Asks for a run as demo-ci; it waits for approval, nothing handed to dispatch. */
let asked = 0;
async function requestRun(): Promise<string> {
  await pc.cloud.fc!.asyncInvocations.idle(10_000);
  const before = dispatches();
  // A timeout of its own: each request a different body, which the replay guard would otherwise refuse as a copy.
  const ack = await webhook(`run uptime on env=demo timeout ${60 + asked++}`, 'demo-ci');
  expect(ack.status, JSON.stringify(ack.body)).toBe(200);
  const runId = /Run (r-[a-z0-9-]+) is waiting for approval: uptime on env=demo\./.exec(ack.body.message ?? '')?.[1];
  expect(runId, JSON.stringify(ack.body)).toBeDefined();
  expect(dispatches()).toBe(before);
  expect(await pc.store.get(`runs/${runId}/approval/request.json`)).toBeDefined();
  return runId!;
}

/** Hand-offs to dispatch so far (a test's run is the only one open while it counts them). */
const dispatches = () => pc.cloud.fc!.asyncInvocations.list().filter((r) => r.functionName === 'fleetrun-dispatch').length;

async function auditOf(runId: string) {
  const records: Record<string, unknown>[] = [];
  for await (const o of pc.store.list('audit/')) {
    const r = JSON.parse((await pc.store.get(o.key))!.toString('utf8')) as Record<string, unknown>;
    if (r.runId === runId) records.push(r);
  }
  return records;
}

async function finished(runId: string) {
  await waitUntil(async () => (await pc.store.get(`runs/${runId}/summary.json`)) !== undefined, 60_000, `the summary of ${runId}`);
}

describe('approvals', () => {
  it('the requester cannot approve their own run; someone not among the approvers cannot either', async () => {
    const runId = await requestRun();
    const before = dispatches();
    const own = await webhook(`approve ${runId}`, 'demo-ci');
    expect(own.status).toBe(403);
    expect(own.body).toEqual({ ok: false, code: 'SelfApproval', message: `You asked for ${runId}: someone else must approve it.` });
    const viewer = await webhook(`approve ${runId}`, 'demo-viewer');
    expect(viewer.status).toBe(403);
    expect(viewer.body).toEqual({ ok: false, code: 'NotAllowed', message: `Not allowed: webhook:demo-viewer is not among the approvers of ${runId}` });
    expect(await pc.store.get(`runs/${runId}/approval/decision.json`)).toBeUndefined();
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(0);
    // status says where the approval stands rather than "No run".
    const waiting = await webhook(`status ${runId}`, 'demo-web');
    expect(waiting.status).toBe(200);
    expect(waiting.body.message).toMatch(new RegExp(`^uptime ${runId} on env=demo: waiting for approval \\(asked by webhook:demo-ci; approvers: .*\\); expires at \\d{4}-`));
    // Still pending: someone else may deny it.
    const denied = await webhook(`deny ${runId}`, 'demo-web');
    expect(denied.status).toBe(200);
    expect(denied.body.message).toBe(`Run ${runId} denied by webhook:demo-web: it will not start.`);
    expect((await webhook(`status ${runId} `, 'demo-web')).body.message).toBe(`uptime ${runId} on env=demo: denied by webhook:demo-web; it will not start.`);
    const late = await webhook(`approve ${runId}`, 'demo-ops');
    expect(late.status).toBe(409);
    expect(late.body).toEqual({ ok: false, code: 'NotPending', message: `${runId} is not waiting for approval: denied by webhook:demo-web.` });
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(0);
    expect(await pc.store.get(`runs/${runId}/manifest.json`)).toBeUndefined();
    const audit = await auditOf(runId);
    expect(audit.map((r) => (r.outcome as { result: string; code?: string }).code ?? (r.outcome as { result: string }).result).sort()).toEqual(['NotAllowed', 'NotPending', 'SelfApproval', 'denied', 'requested']);
    expect(audit.every((r) => r.kind === 'approval')).toBe(true);
  }, 60_000);

  it('an approval replayed: the copy is refused as replayed and the run starts once', async () => {
    const runId = await requestRun();
    const before = dispatches();
    const request = signed(`approve ${runId}`, 'demo-web');
    const approved = await send(request);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.message).toBe(`Run ${runId} approved by webhook:demo-web: uptime on env=demo starts now; its progress and result go to the thread it was asked in.`);
    const replayed = await send(request);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('Replayed');
    await finished(runId);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(1);
    const audit = await auditOf(runId);
    expect(audit.filter((r) => r.kind === 'approval').map((r) => (r.outcome as { result: string }).result).sort()).toEqual(['approved', 'requested']);
    expect(audit.find((r) => (r.outcome as { result: string }).result === 'approved')).toMatchObject({ who: { kind: 'chat', user: 'webhook:demo-web' }, command: 'uptime' });
  }, 90_000);

  it('two approvers racing: one decision is kept, the run starts once', async () => {
    const runId = await requestRun();
    const before = dispatches();
    const [a, b] = await Promise.all([webhook(`approve ${runId}`, 'demo-web'), webhook(`approve ${runId}`, 'demo-ops')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const lost = a.status === 409 ? a : b;
    expect(lost.body.code).toBe('NotPending');
    await finished(runId);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(1);
    const results = (await auditOf(runId)).filter((r) => r.kind === 'approval').map((r) => (r.outcome as { result: string; code?: string }).code ?? (r.outcome as { result: string }).result);
    expect(results.sort()).toEqual(['NotPending', 'approved', 'requested']);
  }, 90_000);

  it('approving a run that expired is refused, the expiry is recorded, and nothing runs', async () => {
    const runId = await requestRun();
    const before = dispatches();
    await new Promise((r) => setTimeout(r, (TTL_SECONDS + 1) * 1000));
    const late = await webhook(`approve ${runId}`, 'demo-web');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('NotPending');
    expect(late.body.message).toMatch(new RegExp(`^${runId} expired unstarted at `));
    const again = await webhook(`approve ${runId}`, 'demo-ops');
    expect(again.body).toEqual({ ok: false, code: 'NotPending', message: `${runId} is not waiting for approval: expired.` });
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(0);
    expect(await pc.store.get(`runs/${runId}/manifest.json`)).toBeUndefined();
    const results = (await auditOf(runId)).map((r) => (r.outcome as { result: string; code?: string }).code ?? (r.outcome as { result: string }).result);
    expect(results.sort()).toEqual(['NotPending', 'NotPending', 'expired', 'requested']);
  }, 60_000);

  it('the request\'s record keeps what the run would do: targets as asked, parameters (a secret one by name), limits, approvers and expiry', async () => {
    const SECRET = 'Approve-Me-Secret-0042';
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    const before = dispatches();
    const ack = await webhook(`run secret-probe on env=demo with token=${SECRET} max-errors 1`, 'demo-ci');
    const probe = /Run (r-[a-z0-9-]+) is waiting for approval/.exec(ack.body.message ?? '')?.[1];
    expect(probe, JSON.stringify(ack.body)).toBeDefined();
    const disk = /Run (r-[a-z0-9-]+) is waiting for approval/.exec((await webhook('run disk-check on env=demo role=web with mount=/var concurrency 1', 'demo-ci')).body.message ?? '')?.[1];
    expect(disk).toBeDefined();
    expect(dispatches()).toBe(before);

    const [probeRecord] = await auditOf(probe!);
    expect(probeRecord).toEqual({
      version: 1,
      at: expect.any(String),
      who: { kind: 'chat', user: 'webhook:demo-ci' },
      kind: 'approval',
      runId: probe,
      command: 'secret-probe',
      targets: { tags: { env: 'demo' } },
      parameters: {},
      withheld: ['token'],
      timeoutSeconds: expect.any(Number),
      maxErrors: 1,
      approvers: ['webhook:demo-ci', 'webhook:demo-web', 'webhook:demo-ops'],
      expiresAt: new Date(Date.parse(probeRecord!.at as string) + TTL_SECONDS * 1000).toISOString(),
      outcome: { result: 'requested' },
    });
    const [diskRecord] = await auditOf(disk!);
    expect(diskRecord).toMatchObject({ command: 'disk-check', targets: { tags: { env: 'demo', role: 'web' } }, parameters: { mount: '/var' }, withheld: [], maxConcurrency: 1, outcome: { result: 'requested' } });
    // The secret in no form in any record, nor in the held request (sealed there).
    for await (const o of pc.store.list('audit/')) expect((await pc.store.get(o.key))!.toString('utf8')).not.toContain(SECRET);
    expect((await pc.store.get(`runs/${probe}/approval/request.json`))!.toString('utf8')).not.toContain(SECRET);
  }, 60_000);

  it('the schedule tick expires a run left waiting: the decision, its record and a message in the thread, once; it never starts after', async () => {
    const runId = await requestRun();
    // One decided in time, and one left waiting that is not yet due when the tick fires: neither is touched.
    const decided = await requestRun();
    expect((await webhook(`deny ${decided}`, 'demo-web')).status).toBe(200);
    const before = dispatches();
    const waiting = async () => {
      const keys: string[] = [];
      for await (const o of pc.store.list('index/approval/')) keys.push(o.key);
      return keys;
    };
    expect((await waiting()).filter((k) => k.endsWith(runId))).toHaveLength(1);
    expect((await waiting()).filter((k) => k.endsWith(decided))).toEqual([]);
    await new Promise((r) => setTimeout(r, (TTL_SECONDS + 1) * 1000));
    const later = await requestRun();

    // Nobody approves or denies: the tick alone records the expiry.
    const tick = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { approvals: { runId: string; state: string }[] };
    // (Runs the earlier tests left waiting are past their time too: they are expired alongside.)
    expect(tick.approvals).toContainEqual({ runId, state: 'expired' });
    expect(tick.approvals.map((a) => a.runId)).not.toContain(later);
    expect(tick.approvals.map((a) => a.runId)).not.toContain(decided);
    expect(JSON.parse((await pc.store.get(`runs/${runId}/approval/decision.json`))!.toString('utf8'))).toEqual({ decision: 'expired', at: expect.any(String) });
    expect(await pc.store.get(`runs/${later}/approval/decision.json`)).toBeUndefined();
    const remaining = await waiting();
    expect(remaining.filter((k) => k.endsWith(runId))).toEqual([]);
    expect(remaining.filter((k) => k.endsWith(later))).toHaveLength(1);
    await waitUntil(() => posted.some((m) => m.startsWith(`Run ${runId} expired unstarted at `)), 10_000, 'the expiry in the thread');
    expect(posted.find((m) => m.startsWith(`Run ${runId} expired`))).toMatch(new RegExp(`^Run ${runId} expired unstarted at \\S+: nobody approved uptime on env=demo in time\\. It will not start; ask for it again\\.$`));
    const expired = (await auditOf(runId)).filter((r) => (r.outcome as { result: string }).result === 'expired');
    expect(expired).toEqual([{ version: 1, at: expect.any(String), who: { kind: 'chat', user: 'webhook:demo-ci' }, kind: 'approval', runId, command: 'uptime', targets: { tags: { env: 'demo' } }, outcome: { result: 'expired' } }]);

    // status says so; an approval now is refused with the code an approval after expiry always got, and records nothing more than its refusal.
    expect((await webhook(`status ${runId}`, 'demo-web')).body.message).toMatch(new RegExp(`^uptime ${runId} on env=demo: expired unstarted at `));
    const late = await webhook(`approve ${runId}`, 'demo-web');
    expect(late.status).toBe(409);
    expect(late.body).toEqual({ ok: false, code: 'NotPending', message: `${runId} is not waiting for approval: expired.` });

    // The tick again: nothing new — no second decision, record or message.
    const again = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { approvals: unknown[] };
    expect(again.approvals).toEqual([]);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(dispatches() - before).toBe(0);
    expect(await pc.store.get(`runs/${runId}/manifest.json`)).toBeUndefined();
    expect(posted.filter((m) => m.startsWith(`Run ${runId} expired`))).toHaveLength(1);
    expect((await auditOf(runId)).map((r) => (r.outcome as { result: string; code?: string }).code ?? (r.outcome as { result: string }).result).sort()).toEqual(['NotPending', 'expired', 'requested']);
    // The one denied in time stays denied.
    expect(JSON.parse((await pc.store.get(`runs/${decided}/approval/decision.json`))!.toString('utf8'))).toMatchObject({ decision: 'denied' });
  }, 90_000);
});
