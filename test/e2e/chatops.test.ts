/**
 * ChatOps end to end on the local cloud: a signed chat command reaches the chatops function over
 * its HTTP trigger, is answered at once, handed to dispatch through the FC InvokeFunction API
 * (@alicloud/fc2, asynchronous), runs on the fleet, and the thread gets progress and one final
 * reply with counts, failures first, and a report link that opens without credentials: fleetrun's
 * own signed link to chatops' /reports/<run>, served from the private bucket as a page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackHeaders, webhookHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread } from '../../local/cli/chat-thread.ts';
import { reportLinkKey, signReportLink } from '../../shared/runs/report-link.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const FLEET = `instances:
${Array.from({ length: 6 }, (_, i) => `  - { id: i-bp1chat00000${i}, name: ${i === 2 ? 'db-1' : `web-${i}`}, tags: { env: demo, role: ${i === 2 ? 'db' : 'web'} } }`).join('\n')}
  - { id: i-bp1chat000099, name: prod-1, tags: { env: prod } }
`;

let pc: PipelineCloud;
let chatUrl: string;
let callbacks: { text: string; link?: { url: string } }[] = [];
let thread: ChatThread;
let callbackUrl: string;
/** A run whose report exists: its id under another run's signature must not open it. */
let firstRunId: string | undefined;

beforeAll(async () => {
  // The webhook's thread as a user runs it: follow-ups are signed, and unsigned ones are dropped.
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (m) => callbacks.push({ text: m.message, ...(m.link ? { link: m.link } : {}) }));
  callbackUrl = thread.url;
  pc = await startPipelineCloud(FLEET, { functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '1' } });
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
});

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${chatUrl}${path}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as { ok?: boolean; message?: string; error?: string; text?: string } };
}

function webhook(text: string, user = 'demo-ci') {
  const body = JSON.stringify({ user, text, callbackUrl });
  return post('/webhook', body, { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) });
}

describe('chat → run → reply', () => {
  it('answers at once, runs through dispatch, and replies with the summary and a working report link', async () => {
    callbacks = [];
    const started = Date.now();
    const ack = await webhook('run web-healthcheck on env=demo');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ack.status).toBe(200);
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1];
    expect(runId, JSON.stringify(ack.body)).toBeDefined();

    await waitUntil(() => callbacks.some((c) => c.text.includes('succeeded')), 60_000, 'the final reply');
    const final = callbacks.find((c) => c.text.includes('succeeded'))!;
    expect(final.text).toContain(`web-healthcheck ${runId}: PartialFailed — 5 succeeded, 1 failed`);
    // Failures first, by name: the db instance's line, with its last output line, comes before the report link.
    expect(final.text.split('\n')[1]).toBe('db-1 (i-bp1chat000002) Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`');
    // The distinct outputs, grouped by the catalog's rule (the instance name masked; a zero-width space keeps <name> from reading as a tag), and the tags it ran on.
    expect(final.text.split('\n').slice(2, 4)).toEqual([
      '2 distinct outputs: 1 × `<\u200bname> is a database instance: no web server here` (Failed, exit 3), 5 × `<\u200bname>: web ok`',
      'Targets: the instances tagged env=demo',
    ]);
    expect(callbacks.filter((c) => c.text.includes('succeeded'))).toHaveLength(1);
    expect(callbacks.some((c) => c.text.includes('sent to 6 instances'))).toBe(true);
    // The link is fleetrun's own, to chatops, for a week; it opens as a page, without credentials.
    const link = new URL(final.link!.url);
    expect(`${link.origin}${link.pathname}`).toBe(`${chatUrl}/reports/${runId}`);
    expect(Number(link.searchParams.get('expires')) - Date.now() / 1000).toBeGreaterThan(7 * 86400 - 120);
    const report = await fetch(link);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(report.headers.get('content-disposition')).toBeNull();
    expect(report.headers.get('x-content-type-options')).toBe('nosniff');
    expect(report.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await report.text();
    firstRunId = runId;
    expect(html).toContain('i-bp1chat000002');
    expect(html).toContain(runId);
    // The report's groups section, above the table: the healthy five as one answer, by name.
    expect(html.indexOf('<section id="groups"')).toBeGreaterThan(0);
    expect(html.indexOf('<section id="groups"')).toBeLessThan(html.indexOf('<table id="instances"'));
    expect(html).toContain('<pre class="group-output">&lt;name&gt;: web ok</pre>');
    expect(html).toMatch(/<b>5 instances<\/b>.*<a href="#only-group-1">show these 5 in the table<\/a>/);
    expect(html).toContain('<span class="nm">db-1</span> i-bp1chat000002</td>');
    expect(pc.cloud.fc!.asyncInvocations.list().some((i) => i.status === 'succeeded')).toBe(true);
  }, 90_000);

  it('refuses a tampered or expired report link with 403, and the bucket serves no one without a signature', async () => {
    const ack = await webhook('run web-healthcheck on env=demo');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1];
    expect(runId, JSON.stringify(ack.body)).toBeDefined();
    await waitUntil(() => callbacks.some((c) => c.link && c.text.includes(runId!)), 60_000, 'the final reply');
    const link = new URL(callbacks.find((c) => c.link && c.text.includes(runId!))!.link!.url);
    expect((await fetch(link)).status).toBe(200);

    const later = new URL(link);
    later.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 86400));
    const otherRun = new URL(link);
    otherRun.pathname = link.pathname.replace(runId!, firstRunId ?? 'r-20261202t000000-000000');
    const badSig = new URL(link);
    badSig.searchParams.set('sig', link.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    const unsigned = new URL(`${link.origin}${link.pathname}`);
    const expired = new URL(signReportLink(chatUrl, runId!, Math.floor(Date.now() / 1000) - 1, reportLinkKey(pc.cloud.sealKey)));
    for (const bad of [later, otherRun, badSig, unsigned, expired]) {
      const res = await fetch(bad);
      expect(res.status, bad.toString()).toBe(403);
      const body = await res.text();
      expect(body).not.toContain('<html');
      expect(body).not.toContain('i-bp1chat000001');
    }
    // The chat webhooks are still POST only; a report is not written through this path.
    expect((await fetch(link, { method: 'POST', body: '{}' })).status).toBe(405);

    // The bucket stays private: OSS answers an unsigned read of the report with AccessDenied.
    const direct = await fetch(`${pc.cloud.oss.endpoint}/fleetrun-runs/runs/${runId}/report.html`);
    expect(direct.status).toBe(403);
    expect(await direct.text()).toContain('<Code>AccessDenied</Code>');
    expect(await pc.store.get(`runs/${runId}/report.html`)).toBeDefined();

    // `status <run>` links the report the same way.
    const status = await webhook(`status ${runId}`);
    const statusLink = /Report: (\S+)/.exec(status.body.message ?? '')?.[1];
    expect(statusLink?.startsWith(`${chatUrl}/reports/${runId}?expires=`), status.body.message).toBe(true);
    expect((await fetch(statusLink!)).status).toBe(200);
  }, 90_000);

  it('refuses forged, expired and replayed requests with 401 and issues nothing', async () => {
    const before = pc.cloud.ecs.calls.RunCommand ?? 0;
    const body = JSON.stringify({ user: 'demo-ci', text: 'run uptime on env=demo', callbackUrl });
    const good = webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body);
    expect((await post('/webhook', body, { ...good, 'x-fleetrun-signature': good['x-fleetrun-signature']!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) })).status).toBe(401);
    expect((await post('/webhook', body, webhookHeaders('a-wrong-secret-value', body))).status).toBe(401);
    expect((await post('/webhook', body, webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body, new Date(Date.now() - 10 * 60_000)))).status).toBe(401);
    const slackBody = 'command=%2Ffleetrun&text=run+uptime+on+env%3Ddemo&user_id=U0DEMOUSER&channel_id=C1&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=t1';
    expect((await post('/slack', slackBody, slackHeaders('not-the-signing-secret', slackBody))).status).toBe(401);
    const first = await post('/webhook', body, good);
    expect(first.status).toBe(200);
    expect((await post('/webhook', body, good)).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1500));
    // Only the one genuine request started a run.
    expect((pc.cloud.ecs.calls.RunCommand ?? 0) - before).toBe(1);
  }, 60_000);

  it('refuses max-errors 10.5% at once with the reason, and runs max-errors 10% to its final reply (issue 13)', async () => {
    // Once answered "started" and then nothing ran: the grammar took 10.5%, dispatch refused it unseen.
    const invocationsBefore = pc.cloud.fc!.asyncInvocations.list().length;
    const runsBefore = pc.cloud.ecs.calls.RunCommand ?? 0;
    const refused = await webhook('run disk-check on env=demo with mount=/ max-errors 10.5%');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ ok: false, code: 'BadGrammar' });
    expect(refused.body.message).toMatch(/^"max-errors" percentage must be a whole number, as SSM takes it \(like 10%\), got 10\.5%/);
    expect(pc.cloud.fc!.asyncInvocations.list()).toHaveLength(invocationsBefore);

    const ack = await webhook('run disk-check on env=demo with mount=/ max-errors 10%');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1];
    expect(runId, JSON.stringify(ack.body)).toBeDefined();
    await waitUntil(() => callbacks.some((c) => c.link && c.text.startsWith(`disk-check ${runId}:`)), 60_000, 'the final reply');
    expect(callbacks.find((c) => c.link && c.text.startsWith(`disk-check ${runId}:`))!.text).toContain(`disk-check ${runId}: Success — 6 succeeded, 0 failed`);
    expect((pc.cloud.ecs.calls.RunCommand ?? 0) - runsBefore).toBe(1);
    // `status` knows the run: it started, it was not lost between chatops and dispatch.
    expect((await webhook(`status ${runId}`)).body.message).toContain(`disk-check ${runId}: Success`);
  }, 90_000);

  it('refuses a user outside the policy and targets the policy does not allow', async () => {
    const before = pc.cloud.ecs.calls.RunCommand ?? 0;
    const stranger = await webhook('run uptime on env=demo', 'someone-else');
    expect(stranger.body.message).toMatch(/^Not allowed/);
    const prod = await webhook('run uptime on env=prod');
    expect(prod.body.message).toMatch(/^Not allowed/);
    const bad = await webhook('run uptime onn env=demo');
    expect(bad.body.message).toContain('did you mean "on"');
    expect((await webhook('help')).body.message).toContain('run <command>');
    await new Promise((r) => setTimeout(r, 500));
    expect((pc.cloud.ecs.calls.RunCommand ?? 0) - before).toBe(0);
  });

  it('decides status and stop on the run they name, and answers stop on a finished run with its final status (issue 14)', async () => {
    // demo-ci's run on the whole demo fleet, to its final reply.
    const ack = await webhook('run web-healthcheck on env=demo');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1];
    expect(runId, JSON.stringify(ack.body)).toBeDefined();
    await waitUntil(() => callbacks.some((c) => c.link && c.text.startsWith(`web-healthcheck ${runId}:`)), 60_000, 'the final reply');
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    const invocations = pc.cloud.fc!.asyncInvocations.list().length;

    // demo-web may act only on the demo web servers (local/demo/policy.yaml): not on this run.
    for (const verb of ['status', 'stop']) {
      const refused = await webhook(`${verb} ${runId}`, 'demo-web');
      expect(refused.status, verb).toBe(403);
      expect(refused.body, verb).toEqual({ ok: false, code: 'NotAllowed', message: 'Not allowed: denied: rule "demo-web-team" covers only runs limited to tag role (web), and this run is not' });
    }

    // Its owner's stop comes after the end: the final status, and nothing handed to dispatch.
    const late = await webhook(`stop ${runId}`);
    expect(late.status).toBe(200);
    const [head, report] = (late.body.message ?? '').split('\n');
    expect(head).toBe(`web-healthcheck ${runId} already finished: PartialFailed — 5 succeeded, 1 failed, 0 stopped, 0 not run. Nothing to stop.`);
    expect(report?.startsWith(`Report: ${chatUrl}/reports/${runId}?expires=`), report).toBe(true);
    expect(pc.cloud.fc!.asyncInvocations.list()).toHaveLength(invocations);
    expect(await pc.store.get(`runs/${runId}/stop-requested`)).toBeUndefined();

    // A run demo-web may start is one both it and demo-ci (env=demo covers role=web) may look at.
    const webAck = await webhook('run web-healthcheck on env=demo role=web', 'demo-web');
    const webRunId = /Run (r-[a-z0-9-]+) started/.exec(webAck.body.message ?? '')?.[1];
    expect(webRunId, JSON.stringify(webAck.body)).toBeDefined();
    await waitUntil(() => callbacks.some((c) => c.link && c.text.startsWith(`web-healthcheck ${webRunId}:`)), 60_000, 'the final reply');
    for (const user of ['demo-web', 'demo-ci']) expect((await webhook(`status ${webRunId}`, user)).body.message, user).toContain(`web-healthcheck ${webRunId}: Success — 5 succeeded, 0 failed`);
  }, 120_000);
});
