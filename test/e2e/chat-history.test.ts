/**
 * History and audit end to end on the local cloud (issue 15 part 5): a run, a refusal and a stop
 * asked for in chat each leave their audit record in the runs bucket — who, what, which targets as
 * asked, when, the outcome, the run — with no secret value in any form; `runs` in chat lists recent
 * runs with their status and report links, hiding the runs its asker may not look at; and the
 * command line (`fleetrun runs`, `fleetrun report`, as a user runs them) reads the same history.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, signedWebhook } from '../support/demo-webhook.ts';
import { AUDIT_PREFIX, parseAuditKey, parseAuditRecord, type AuditRecord } from '../../shared/runs/audit.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { DEMO_CHAT, PROJECT_ROOT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread } from '../../local/cli/chat-thread.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { findSecrets } from '../support/secret-scan.ts';

const FLEET = `instances:
  - { id: i-bp1hist000001, name: web-1, tags: { env: demo, role: web } }
  - { id: i-bp1hist000002, name: web-2, tags: { env: demo, role: web } }
  - { id: i-bp1hist000003, name: db-1, tags: { env: demo, role: db } }
  - { id: i-bp1hist000009, name: prod-1, tags: { env: prod } }
`;
const SECRET = 'hunter2-Audit-Secret-42';
const BIN = path.join(PROJECT_ROOT, 'bin/fleetrun.js');

let pc: PipelineCloud;
let chatUrl: string;
let thread: ChatThread;
const callbacks: { text: string; link?: { url: string } }[] = [];
const started = new Date();
/** The secret-probe run on the whole demo fleet (demo-ci) and the sleep run on its web servers (demo-web), stopped. */
let probeRun: string;
let sleepRun: string;

const webhook = (text: string, user = 'demo-ci') => postWebhook(chatUrl, signedWebhook(text, user, thread.url));

const finalReplyOf = (runId: string) => callbacks.find((c) => c.link && c.text.includes(` ${runId}: `));

async function auditRecords(): Promise<{ key: string; text: string; record: AuditRecord | undefined }[]> {
  const out = [];
  for await (const o of pc.store.list(AUDIT_PREFIX)) {
    const text = (await pc.store.get(o.key))!.toString('utf8');
    out.push({ key: o.key, text, record: parseAuditRecord(text) });
  }
  return out;
}

/** `fleetrun <args>` as a user runs it, reading this cloud's bucket with the variables a deployment's reader sets. */
function fleetrun(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string }> {
  const base: Record<string, string | undefined> = { ...process.env, FLEETRUN_PUBLIC_URL: undefined, FLEETRUN_SEAL_KEY: undefined };
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...base, FLEETRUN_BUCKET: 'fleetrun-runs', FLEETRUN_OSS_ENDPOINT: pc.cloud.oss.endpoint, FLEETRUN_ACCESS_KEY_ID: pc.cloud.serviceKey.id, FLEETRUN_ACCESS_KEY_SECRET: pc.cloud.serviceKey.secret, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

beforeAll(async () => {
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (m) => callbacks.push({ text: m.message, ...(m.link ? { link: m.link } : {}) }));
  pc = await startPipelineCloud(FLEET, { functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '60' } });
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
});

describe('The audit record of chat commands', () => {
  it('keeps a run, a refusal and a stop with who, what, which targets, when and the outcome, and no secret in any form', async () => {
    const ack = await webhook(`run secret-probe on env=demo with token=${SECRET}`);
    probeRun = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1] ?? '';
    expect(probeRun, JSON.stringify(ack.body)).not.toBe('');
    await waitUntil(() => finalReplyOf(probeRun) !== undefined, 60_000, 'the probe run\'s final reply');

    const refused = await webhook(`run secret-probe on env=prod with token=${SECRET}`);
    expect(refused).toMatchObject({ status: 403, body: { code: 'NotAllowed' } });

    const sleepAck = await webhook('run sleep-demo on env=demo role=web with seconds=30', 'demo-web');
    sleepRun = /Run (r-[a-z0-9-]+) started/.exec(sleepAck.body.message ?? '')?.[1] ?? '';
    expect(sleepRun, JSON.stringify(sleepAck.body)).not.toBe('');
    await waitUntil(() => callbacks.some((c) => c.text.startsWith(`sleep-demo ${sleepRun}: sent to`)), 30_000, 'the sleep run to be sent');
    expect((await webhook(`stop ${sleepRun}`, 'demo-web')).body.message).toBe(`Stopping ${sleepRun}…`);
    await waitUntil(() => finalReplyOf(sleepRun) !== undefined, 60_000, 'the stopped run\'s final reply');
    // demo-web may not look at demo-ci's run on the whole demo fleet.
    expect((await webhook(`status ${probeRun}`, 'demo-web')).status).toBe(403);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);

    const stored = await auditRecords();
    // Every object under audit/ is a record a reader takes, under the key its contents name.
    for (const s of stored) {
      expect(s.record, s.key).toBeDefined();
      const key = parseAuditKey(s.key)!;
      expect([key.at, key.kind, key.result], s.key).toEqual([s.record!.at, s.record!.kind, s.record!.outcome.result]);
      expect(Date.parse(key.at)).toBeGreaterThanOrEqual(started.getTime());
      expect(Date.parse(key.at)).toBeLessThanOrEqual(Date.now());
    }
    const records = stored.map((s) => s.record!);
    const demoCi = { kind: 'chat', user: 'webhook:demo-ci' };
    const demoWeb = { kind: 'chat', user: 'webhook:demo-web' };
    expect(records.filter((r) => r.kind === 'run')).toEqual([
      { version: 1, at: expect.any(String), who: demoCi, kind: 'run', runId: probeRun, command: 'secret-probe', targets: { tags: { env: 'demo' } }, parameters: {}, withheld: ['token'], outcome: { result: 'started' } },
      {
        version: 1,
        at: expect.any(String),
        who: demoCi,
        kind: 'run',
        command: 'secret-probe',
        targets: { tags: { env: 'prod' } },
        parameters: {},
        withheld: ['token'],
        outcome: { result: 'refused', code: 'NotAllowed', reason: expect.stringContaining('access policy'), policy: expect.stringContaining('env=prod'), stage: 'chat' },
      },
      { version: 1, at: expect.any(String), who: demoWeb, kind: 'run', runId: sleepRun, command: 'sleep-demo', targets: { tags: { env: 'demo', role: 'web' } }, parameters: { seconds: '30' }, withheld: [], outcome: { result: 'started' } },
    ]);
    expect(records.filter((r) => r.kind === 'stop')).toEqual([{ version: 1, at: expect.any(String), who: demoWeb, kind: 'stop', runId: sleepRun, command: 'sleep-demo', outcome: { result: 'requested' } }]);
    expect(records.filter((r) => r.kind === 'status')).toEqual([
      { version: 1, at: expect.any(String), who: demoWeb, kind: 'status', runId: probeRun, command: 'secret-probe', outcome: { result: 'refused', code: 'NotAllowed', reason: expect.any(String), policy: expect.stringContaining('demo-web-team'), stage: 'chat' } },
    ]);
    // Each run's end, once, as its summary says.
    const finishes = records.filter((r) => r.kind === 'finish');
    expect(finishes.map((r) => [r.runId, r.outcome.status, r.outcome.counts.total])).toEqual([
      [probeRun, 'Success', 3],
      [sleepRun, expect.not.stringMatching(/^Success$/), 2],
    ]);
    // In the order they happened: a listing by prefix is the history.
    expect(records.map((r) => r.at)).toEqual(records.map((r) => r.at).sort());
    expect(stored.map((s) => s.key)).toEqual(stored.map((s) => s.key).sort());

    // The secret reached the instances (the probe printed its length) and is in no audit object, in any form.
    expect(finalReplyOf(probeRun)!.text).toContain('Success');
    for (const s of stored) expect(findSecrets(`${s.key}\n${s.text}`, [SECRET], s.key)).toEqual([]);
  }, 180_000);
});

describe('runs in chat', () => {
  it('lists recent runs newest first with their status and report links, and hides a run its asker may not see', async () => {
    const ci = await webhook('runs');
    expect(ci.status).toBe(200);
    const lines = (ci.body.message ?? '').split('\n');
    expect(lines[0]).toBe('The last 2 runs you may see, newest first:');
    expect(lines[1]).toMatch(new RegExp(`^${sleepRun} · sleep-demo on env=demo role=web · \\w+ \\(0 succeeded, \\d failed, \\d stopped, 0 not run\\) · webhook:demo-web · \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC$`));
    expect(lines[3]).toMatch(new RegExp(`^${probeRun} · secret-probe on env=demo · Success \\(3 succeeded, 0 failed, 0 stopped, 0 not run\\) · webhook:demo-ci · `));
    // The report links are status's: chatops' own, and they open.
    for (const [n, runId] of [[2, sleepRun], [4, probeRun]] as const) {
      const link = /^ {2}Report: (\S+)$/.exec(lines[n] ?? '')?.[1];
      expect(link?.startsWith(`${chatUrl}/reports/${runId}?expires=`), lines[n]).toBe(true);
      expect((await fetch(link!)).status).toBe(200);
    }
    expect((await webhook('runs 1')).body.message?.split('\n').filter((l) => l.startsWith('r-'))).toEqual([expect.stringContaining(sleepRun)]);

    // demo-web may look only at runs on the demo web servers: its own stopped run, not demo-ci's on the whole demo fleet.
    const web = (await webhook('runs 50', 'demo-web')).body.message ?? '';
    expect(web).toContain(sleepRun);
    expect(web).not.toContain(probeRun);
    expect(web.split('\n')[0]).toBe('The last run you may see, newest first:');

    // Someone no rule lets look at runs is refused, and the refusal is kept.
    const stranger = await webhook('runs', 'someone-else');
    expect(stranger).toMatchObject({ status: 403, body: { ok: false, code: 'NotAllowed' } });
    const refusals = (await auditRecords()).map((s) => s.record!).filter((r) => r.kind === 'runs');
    expect(refusals).toEqual([{ version: 1, at: expect.any(String), who: { kind: 'chat', user: 'webhook:someone-else' }, kind: 'runs', outcome: expect.objectContaining({ result: 'refused', code: 'NotAllowed' }) }]);
  }, 60_000);
});

describe('fleetrun runs and fleetrun report', () => {
  it('list the same history from the command line, filtered by user, instance and time', async () => {
    const all = await fleetrun(['runs']);
    expect(all.code, all.out).toBe(0);
    const rows = all.out.split('\n').filter((l) => l.startsWith('r-'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(new RegExp(`^${sleepRun}\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\s+webhook:demo-web\\s+sleep-demo\\s+env=demo role=web\\s+\\w+ \\(`));
    expect(rows[1]).toMatch(new RegExp(`^${probeRun}\\s+.*webhook:demo-ci\\s+secret-probe\\s+env=demo\\s+Success \\(3 succeeded`));
    expect(all.out).not.toContain(SECRET);

    const byUser = await fleetrun(['runs', '--user', 'demo-web', '--since', '1h']);
    expect(byUser.out.split('\n').filter((l) => l.startsWith('r-')).map((l) => l.split(' ')[0])).toEqual([sleepRun]);
    // The db instance was reached only by the probe run, through its tags: found in the run's manifest.
    const byInstance = await fleetrun(['runs', '--instance', 'i-bp1hist000003', '--json']);
    expect((JSON.parse(byInstance.out) as { runId: string; state: string }[]).map((r) => [r.runId, r.state])).toEqual([[probeRun, 'finished']]);
    const future = await fleetrun(['runs', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(future.out).toMatch(/^No runs in fleetrun-runs on http:\/\/127\.0\.0\.1:\d+ since /);
    const bad = await fleetrun(['runs', '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--since wants');
  }, 90_000);

  it('prints where to open a report: chatops\' link with its URL and seal key, else the objects and a presigned URL', async () => {
    const linked = await fleetrun(['report', probeRun], { FLEETRUN_PUBLIC_URL: chatUrl, FLEETRUN_SEAL_KEY: pc.cloud.sealKey });
    expect(linked.code, linked.out).toBe(0);
    const link = /^Report: (\S+)$/m.exec(linked.out)?.[1];
    expect(link?.startsWith(`${chatUrl}/reports/${probeRun}?expires=`), linked.out).toBe(true);
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(probeRun);

    const presigned = await fleetrun(['report', probeRun]);
    expect(presigned.code, presigned.out).toBe(0);
    expect(presigned.out).toContain(`oss://fleetrun-runs/${runKeys.report(probeRun)}`);
    const url = /^Report: (\S+)$/m.exec(presigned.out)?.[1];
    expect(url?.startsWith(pc.cloud.oss.endpoint), presigned.out).toBe(true);
    expect((await fetch(url!)).status).toBe(200);

    const missing = await fleetrun(['report', 'r-20200101t000000-000000']);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('No report of r-20200101t000000-000000');
  }, 60_000);
});
