/**
 * retry end to end on the local cloud (issue 15 part 2): the failing demo command on env=demo,
 * then `retry <run>` from the same thread runs on exactly the failed instance, through chatops'
 * policy, dispatch and summarize; the retry's summary says what it retries and the run's summary
 * and report list the retry. A replayed retry runs once; a user the policy does not allow on the
 * run's instances is refused, and so is a retry of nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread } from '../../local/cli/chat-thread.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { parseSummaryJson } from '../../shared/runs/summary.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';

const FLEET = `instances:
${Array.from({ length: 6 }, (_, i) => `  - { id: i-bp1retry0000${i}, name: ${i === 2 ? 'db-1' : `web-${i}`}, tags: { env: demo, role: ${i === 2 ? 'db' : 'web'} } }`).join('\n')}
`;
const FAILED = 'i-bp1retry00002';

let pc: PipelineCloud;
let chatUrl: string;
let callbacks: { text: string; link?: { url: string } }[] = [];
let thread: ChatThread;

beforeAll(async () => {
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (m) => callbacks.push({ text: m.message, ...(m.link ? { link: m.link } : {}) }));
  pc = await startPipelineCloud(FLEET);
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
});

function signed(text: string, user = 'demo-ci') {
  const body = JSON.stringify({ user, text, callbackUrl: thread.url });
  return { body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } };
}

async function send(request: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body: request.body, headers: request.headers });
  return { status: res.status, body: (await res.json()) as { ok?: boolean; code?: string; message?: string } };
}

const webhook = (text: string, user?: string) => send(signed(text, user));

async function finalReply(command: string, runId: string) {
  await waitUntil(() => callbacks.some((c) => c.link && c.text.startsWith(`${command} ${runId}:`)), 60_000, `the final reply of ${runId}`);
  return callbacks.find((c) => c.link && c.text.startsWith(`${command} ${runId}:`))!;
}

async function summaryOf(runId: string) {
  const raw = await pc.store.get(`runs/${runId}/summary.json`);
  return raw ? parseSummaryJson(raw.toString('utf8')) : undefined;
}

describe('retry <run>', () => {
  it('runs the failing demo command again on exactly its failed instance, linked both ways; replayed, it runs once', async () => {
    const ack = await webhook('run web-healthcheck on env=demo');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message ?? '')?.[1];
    expect(runId, JSON.stringify(ack.body)).toBeDefined();
    expect((await finalReply('web-healthcheck', runId!)).text).toContain(`web-healthcheck ${runId}: PartialFailed — 5 succeeded, 1 failed`);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);

    // demo-web may act on the demo web servers only: not on a run of the whole demo fleet.
    const stranger = await webhook(`retry ${runId}`, 'demo-web');
    expect(stranger.status).toBe(403);
    expect(stranger.body).toEqual({ ok: false, code: 'NotAllowed', message: 'Not allowed: denied: rule "demo-web-team" covers only runs limited to tag role (web), and this run is not' });
    // Nothing never sent: nothing to retry, said at once.
    const nothing = await webhook(`retry ${runId} not-run`);
    expect(nothing.status).toBe(409);
    expect(nothing.body).toEqual({ ok: false, code: 'NotRetryable', message: `${runId} has no not-run instances to retry.` });
    const invocations = pc.cloud.fc!.asyncInvocations.list().length;

    // The retry, sent twice as is: the copy is refused as replayed, and one run is handed over.
    const request = signed(`retry ${runId}`);
    const started = Date.now();
    const retried = await send(request);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const retryId = /Run (r-[a-z0-9-]+) started/.exec(retried.body.message ?? '')?.[1];
    expect(retried.body.message).toBe(`Run ${retryId} started: web-healthcheck on ${FAILED} (the failed instance of ${runId}). Progress will follow here.`);
    const replayed = await send(request);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('Replayed');

    const final = await finalReply('web-healthcheck', retryId!);
    expect(final.text.split('\n')[0]).toBe(`web-healthcheck ${retryId}: Failed — 0 succeeded, 1 failed, 0 stopped, 0 not run`);
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(pc.cloud.fc!.asyncInvocations.list().length - invocations).toBe(1);

    // Exactly the failed instance, the same command and its grouping rule.
    const manifest = runManifestSchema.parse(JSON.parse((await pc.store.get(`runs/${retryId}/manifest.json`))!.toString('utf8')));
    expect(manifest.targets).toEqual([FAILED]);
    expect(manifest.retryOf).toBe(runId);
    expect(manifest.command.group).toBeDefined();
    const retrySummary = (await summaryOf(retryId!))!;
    expect(retrySummary.retryOf).toBe(runId);
    expect(retrySummary.instances.map((i) => i.instanceId)).toEqual([FAILED]);

    // The run's summary and report list the retry once the retry is summarized.
    await waitUntil(async () => (await summaryOf(runId!))?.retries.length === 1, 10_000, 'the run linked to its retry');
    expect((await summaryOf(runId!))!.retries).toEqual([retryId]);
    expect((await pc.store.get(`runs/${runId}/report.html`))!.toString('utf8')).toContain(`retried as run <span class="retries">${retryId}</span>`);
    expect((await pc.store.get(`runs/${runId}/summary.md`))!.toString('utf8')).toContain(`Retried as run \`${retryId}\`.`);
    expect((await pc.store.get(`runs/${retryId}/report.html`))!.toString('utf8')).toContain(`a retry of run <span class="retry-of">${runId}</span>`);
    // Its counts are as they were: only the link was added.
    expect((await summaryOf(runId!))!.counts.byClass).toEqual({ success: 5, failed: 1, stopped: 0, skipped: 0 });

    // The audit record: the retry as a run, with what it retries; the refusals too.
    const records: Record<string, unknown>[] = [];
    for await (const o of pc.store.list('audit/')) records.push(JSON.parse((await pc.store.get(o.key))!.toString('utf8')) as Record<string, unknown>);
    const runRecords = records.filter((r) => r.kind === 'run' && r.retryOf === runId);
    expect(runRecords).toHaveLength(1);
    expect(runRecords[0]).toMatchObject({ runId: retryId, command: 'web-healthcheck', targets: { instanceIds: [FAILED] }, outcome: { result: 'started' }, who: { kind: 'chat', user: 'webhook:demo-ci' } });
    expect(records.filter((r) => r.kind === 'retry').map((r) => (r.outcome as { code: string }).code).sort()).toEqual(['NotAllowed', 'NotRetryable']);
  }, 150_000);
});
