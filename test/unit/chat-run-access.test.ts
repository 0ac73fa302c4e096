/**
 * `status` and `stop` through handleChat are decisions on the run they name (issue 14, item 5):
 * its command and targets as asked (recorded by dispatch when it accepted the run), a scheduled
 * run's job, or else its instance ids — each decision logged like run's. And `stop` on a finished
 * run answers with the final status instead of handing a stop to dispatch.
 */
import { describe, expect, it } from 'vitest';
import { createCodecs, MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { DispatchRequest } from '../../shared/chatops/dispatch-request.ts';
import { handleChat, type ChatopsDeps } from '../../shared/chatops/handle-chat.ts';
import { recordRunScope } from '../../shared/chatops/run-scope.ts';
import { parseCatalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema, type RunManifest } from '../../shared/runs/manifest.ts';
import { SummaryBuilder, summaryJson } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseJobsFile } from '../../shared/schedule/jobs-file.ts';
import { MemoryStore } from '../support/memory-store.ts';

const SECRET = 'webhook-secret-for-tests-0014';

const CATALOG = parseCatalog(`
commands:
  uptime:
    description: how long each instance has been up
    script: uptime
  disk-check:
    description: disk use
    script: df -h
  gated:
    description: needs a second person
    script: reboot
    approval: required
`);

const POLICY = parsePolicy(`
rules:
  - name: demo-ops
    users: ['webhook:demo-user']
    commands: ['*']
    targets: { tags: { env: [demo] } }
  - name: prod-ops
    users: ['webhook:prod-user']
    commands: ['*']
    targets: { tags: { env: [prod] } }
  - name: demo-viewers
    users: ['webhook:viewer']
    targets: { tags: { env: [demo] } }
    actions: [status]
  - name: admins
    users: ['webhook:admin']
    commands: ['*']
`);

const JOBS = parseJobsFile(`
jobs:
  - name: nightly-prod
    command: disk-check
    targets: { tags: { env: prod } }
    frequency: rate(1h)
`);

function harness() {
  const dispatched: DispatchRequest[] = [];
  const logs: Record<string, unknown>[] = [];
  const store = new MemoryStore();
  const deps: ChatopsDeps = {
    codecs: createCodecs({ webhook: { secret: SECRET, callbackOrigins: [] } }, new MemoryReplayGuard()),
    catalog: CATALOG,
    policy: POLICY,
    jobs: JOBS,
    store,
    dispatcher: { dispatch: async (r) => void dispatched.push(r) },
    sealKey: 'a'.repeat(64),
    logger: createLogger({ sink: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) }),
  };
  const say = async (user: string, text: string) => {
    const body = JSON.stringify({ user, text });
    const res = await handleChat({ method: 'POST', path: '/webhook', headers: webhookHeaders(SECRET, body), query: {}, body: Buffer.from(body) }, deps);
    return { status: res.statusCode, json: JSON.parse(String(res.body)) as { ok: boolean; code?: string; message: string } };
  };
  /**
   * What dispatch would write once it accepted and started the run: what it is about, from the
   * request chatops handed over (a run chatops did not hand over has none), and its manifest, with
   * the instances it resolved to.
   */
  const started = async (runId: string, command: string, requestedBy: RunManifest['requestedBy'], targets = ['i-demo1', 'i-demo2']) => {
    const handed = dispatched.find((r) => r.kind === 'run' && r.runId === runId);
    if (handed?.kind === 'run') await recordRunScope(store, runId, { command: handed.command.name, targets: handed.policyTargets ?? handed.targets });
    const manifest = runManifestSchema.parse({
      version: 1, runId, createdAt: '2026-11-23T10:00:00.000Z', requestedBy, command: { name: command, type: 'RunShellScript', timeoutSeconds: 60 }, targets, output: { mode: 'fetch' },
    });
    await store.put(runKeys.manifest(runId), JSON.stringify(manifest));
    return manifest;
  };
  const decisions = () => logs.filter((l) => l.message === 'policy decision');
  return { deps, dispatched, logs, decisions, store, say, started };
}

/** A run demo-user asked for through chat: dispatch recorded what it is about and wrote the manifest. */
async function demoRun(h: ReturnType<typeof harness>): Promise<RunManifest> {
  const ack = await h.say('demo-user', 'run uptime on env=demo');
  const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.json.message)?.[1];
  expect(runId, ack.json.message).toBeDefined();
  return h.started(runId!, 'uptime', { kind: 'chat', user: 'webhook:demo-user' });
}

describe('status and stop are decided on the run they name', () => {
  it('a user allowed only env=prod can neither see nor stop a demo run; nothing is dispatched', async () => {
    const h = harness();
    const { runId } = await demoRun(h);
    const before = h.dispatched.length;
    for (const verb of ['status', 'stop']) {
      const answer = await h.say('prod-user', `${verb} ${runId}`);
      expect(answer, verb).toEqual({ status: 403, json: { ok: false, code: 'NotAllowed', message: 'Not allowed: denied: rule "prod-ops" does not allow tag env=demo (env may be prod)' } });
    }
    expect(h.dispatched).toHaveLength(before);
    expect(await h.store.get(runKeys.stopRequest(runId))).toBeUndefined();
  });

  it('allows them to a user whose rule covers the run, whoever started it, and a viewer may look but not stop', async () => {
    const h = harness();
    const { runId } = await demoRun(h);
    expect(await h.say('demo-user', `status ${runId}`)).toMatchObject({ status: 200, json: { ok: true, message: `uptime ${runId}: 0/2 instances finished ${'░'.repeat(20)}` } });
    expect(await h.say('viewer', `status ${runId}`)).toMatchObject({ status: 200, json: { ok: true } });
    expect(await h.say('viewer', `stop ${runId}`)).toMatchObject({ status: 403, json: { code: 'NotAllowed', message: 'Not allowed: denied: rule "demo-viewers" does not allow "stop"' } });
    expect(await h.say('admin', `stop ${runId}`)).toEqual({ status: 200, json: { ok: true, message: `Stopping ${runId}…` } });
    expect(h.dispatched.at(-1)).toMatchObject({ kind: 'stop', runId, requestedBy: { kind: 'chat', user: 'webhook:admin' } });
  });

  it('logs each decision like run\'s: who, action, command, run, rule, reason, and what the run was judged by', async () => {
    const h = harness();
    const { runId } = await demoRun(h);
    await h.say('prod-user', `stop ${runId}`);
    await h.say('demo-user', `status ${runId}`);
    expect(h.decisions().slice(-2)).toEqual([
      expect.objectContaining({ platform: 'webhook', user: 'prod-user', action: 'stop', command: 'uptime', runId, judgedBy: 'request', allow: false, reason: 'denied: rule "prod-ops" does not allow tag env=demo (env may be prod)' }),
      expect.objectContaining({ platform: 'webhook', user: 'demo-user', action: 'status', command: 'uptime', runId, judgedBy: 'request', allow: true, rule: 'demo-ops' }),
    ]);
  });

  it('judges a scheduled run by its job\'s targets', async () => {
    const h = harness();
    const runId = 'r-20261123t100000-5c4ed0';
    await h.started(runId, 'disk-check', { kind: 'schedule', user: 'job:nightly-prod' });
    expect(await h.say('demo-user', `status ${runId}`)).toMatchObject({ status: 403, json: { message: 'Not allowed: denied: rule "demo-ops" does not allow tag env=prod (env may be demo)' } });
    expect(await h.say('prod-user', `status ${runId}`)).toMatchObject({ status: 200, json: { ok: true } });
    expect(h.decisions().at(-1)).toMatchObject({ judgedBy: 'job', allow: true, rule: 'prod-ops' });
  });

  it('judges a run with no record of what it was asked for by its instance ids: rules limited by tag do not cover it', async () => {
    const h = harness();
    const runId = 'r-20261123t100000-01d0aa';
    await h.started(runId, 'uptime', { kind: 'cli' });
    expect(await h.say('demo-user', `stop ${runId}`)).toMatchObject({ status: 403, json: { message: 'Not allowed: denied: rule "demo-ops" allows only targets chosen by tag' } });
    expect(await h.say('admin', `status ${runId}`)).toMatchObject({ status: 200, json: { ok: true } });
    expect(h.decisions().at(-1)).toMatchObject({ judgedBy: 'instances', allow: true, rule: 'admins' });
  });

  it('does not take a record that names another command than the run\'s: the run is judged by its instances', async () => {
    const h = harness();
    const runId = 'r-20261123t100000-0bad00';
    await h.started(runId, 'uptime', { kind: 'chat', user: 'webhook:demo-user' });
    await h.store.put(`runs/${runId}/scope.json`, JSON.stringify({ version: 1, command: 'disk-check', targets: { tags: { env: 'demo' } } }));
    expect(await h.say('demo-user', `status ${runId}`)).toMatchObject({ status: 403, json: { message: 'Not allowed: denied: rule "demo-ops" allows only targets chosen by tag' } });
    expect(h.decisions().at(-1)).toMatchObject({ judgedBy: 'instances', allow: false });
  });

  it('refuses someone no rule allows the action before looking the run up; others learn it does not exist', async () => {
    const h = harness();
    const unknown = 'r-20261123t101500-1a2b3c';
    expect(await h.say('stranger', `status ${unknown}`)).toMatchObject({ status: 403, json: { code: 'NotAllowed', message: 'Not allowed: no rule lets webhook:stranger use fleetrun (denied by default)' } });
    expect(await h.say('viewer', `stop ${unknown}`)).toMatchObject({ status: 403, json: { code: 'NotAllowed' } });
    expect(await h.say('demo-user', `stop ${unknown}`)).toMatchObject({ status: 404, json: { code: 'UnknownRun' } });
    expect(h.decisions().at(-1)).toMatchObject({ user: 'viewer', action: 'stop', runId: unknown, allow: false });
    expect(h.dispatched).toEqual([]);
  });
});

describe('stop on a run that already finished', () => {
  it('answers with its final status and counts, and hands nothing to dispatch', async () => {
    const h = harness();
    const manifest = await demoRun(h);
    const runId = manifest.runId;
    const b = new SummaryBuilder(manifest);
    for (const [instanceId, status, exitCode] of [['i-demo1', 'Success', 0], ['i-demo2', 'Failed', 2]] as const)
      b.add({ version: 1, runId, invokeId: 't-1', commandId: 'c-1', instanceId, status, exitCode, errorCode: '', errorInfo: '', startTime: '2026-11-23T10:00:01Z', finishTime: '2026-11-23T10:00:02Z', output: '', outputBytes: 0, source: 'event' });
    await h.store.put(runKeys.summaryJson(runId), summaryJson(b.build()));
    const before = h.dispatched.length;

    const answer = await h.say('demo-user', `stop ${runId}`);
    expect(answer.status).toBe(200);
    expect(answer.json.ok).toBe(true);
    expect(answer.json.message).toBe(
      `uptime ${runId} already finished: PartialFailed — 1 succeeded, 1 failed, 0 stopped, 0 not run. Nothing to stop.\nReport: memory://${runKeys.report(runId)}`,
    );
    expect(h.dispatched).toHaveLength(before);
    expect(await h.store.get(runKeys.stopRequest(runId))).toBeUndefined();
  });
});

describe('retry of a run that has not finished', () => {
  it('is refused NotRetryable, not UnknownRun, while the run is handed over, running or held for approval — to those who may retry it', async () => {
    const h = harness();
    const ack = await h.say('demo-user', 'run uptime on env=demo');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.json.message)![1]!;
    // Handed to dispatch, not started yet: no manifest, only the hand-off record.
    expect(await h.say('demo-user', `retry ${runId}`)).toEqual({ status: 409, json: { ok: false, code: 'NotRetryable', message: `${runId} has not started yet; wait for it to finish, then retry.` } });
    expect(await h.say('prod-user', `retry ${runId}`)).toMatchObject({ status: 403, json: { code: 'NotAllowed', message: 'Not allowed: denied: rule "prod-ops" does not allow tag env=demo (env may be prod)' } });
    // Started: its manifest, no summary yet.
    await h.started(runId, 'uptime', { kind: 'chat', user: 'webhook:demo-user' });
    expect(await h.say('demo-user', `retry ${runId} all`)).toEqual({ status: 409, json: { ok: false, code: 'NotRetryable', message: `${runId} is still running; stop it or wait for it to finish, then retry.` } });
    // Held for approval: it has not run, and says where its approval stands.
    const held = /Run (r-[a-z0-9-]+) is waiting for approval/.exec((await h.say('demo-user', 'run gated on env=demo')).json.message)![1]!;
    const answer = await h.say('admin', `retry ${held}`);
    expect(answer).toMatchObject({ status: 409, json: { ok: false, code: 'NotRetryable' } });
    expect(answer.json.message).toMatch(new RegExp(`^${held} has not run, so there is nothing to retry — gated ${held} on env=demo: waiting for approval \\(asked by webhook:demo-user\\); expires at `));
    expect(await h.say('prod-user', `retry ${held}`)).toMatchObject({ status: 403, json: { code: 'NotAllowed' } });
    // Nothing of either was handed over again.
    expect(h.dispatched.filter((r) => r.kind === 'run').map((r) => r.runId)).toEqual([runId]);
  });
});
