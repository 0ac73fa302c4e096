/**
 * retry's edges on the local cloud (issue 15 part 2), beside chat-retry.test.ts's main path:
 * - a run still running is refused NotRetryable with the reason, and once stopped it has no
 *   failed instances to retry;
 * - two retries of one run finishing at once: the run's summary.json, summary.md and report.html
 *   list both (and more links written at once all converge: pipeline/retry-link.ts);
 * - the instance a retry names lost the tags the retried run was allowed on: the retry runs on
 *   exactly the instances it names or not at all, judged on their ids — refused at dispatch for a
 *   user allowed only by those tags (the reply names the instance and the tags; nothing runs,
 *   nothing is left under runs/<id>/, the refusal is audited), run for one a rule allows on any target.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, signedWebhook } from '../support/demo-webhook.ts';
import { linkRetry } from '../../shared/pipeline/retry-link.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { parseSummaryJson } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { PROJECT_ROOT } from '../../local/local-cloud.ts';
import type { ChatThread, ThreadReply } from '../../local/cli/chat-thread.ts';
import { waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { startChatCloud, type ChatCloud } from '../support/chat-cloud.ts';

const FLEET = `instances:
${Array.from({ length: 4 }, (_, i) => `  - { id: i-bp1edge00000${i}, name: ${i === 2 ? 'db-1' : `web-${i}`}, tags: { env: demo, role: ${i === 2 ? 'db' : 'web'} } }`).join('\n')}
`;
const FAILED = 'i-bp1edge000002';
// The demo policy, and an operator a rule allows on any target.
const POLICY = `${readFileSync(path.join(PROJECT_ROOT, 'local/demo/policy.yaml'), 'utf8')}
  - name: fleet-admins
    users: ['webhook:demo-admin']
    commands: ['*']
`;

let chat: ChatCloud;
let pc: PipelineCloud;
let chatUrl: string;
let thread: ChatThread;
const replies: ThreadReply[] = [];

beforeAll(async () => {
  chat = await startChatCloud(FLEET, { policy: POLICY, onReply: (m) => replies.push(m) });
  ({ pc, chatUrl, thread } = chat);
}, 60_000);

afterAll(async () => chat?.close());

const webhook = (text: string, user = 'demo-ci') => postWebhook(chatUrl, signedWebhook(text, user, thread.url));

function startedId(answer: { status: number; body: { message?: string } }): string {
  const runId = /Run (r-[a-z0-9-]+) started/.exec(answer.body.message ?? '')?.[1];
  expect(runId, JSON.stringify(answer)).toBeDefined();
  return runId!;
}

async function summaryOf(runId: string) {
  const raw = await pc.store.get(`runs/${runId}/summary.json`);
  return raw ? parseSummaryJson(raw.toString('utf8')) : undefined;
}

const finished = (runId: string) => waitUntil(async () => (await summaryOf(runId)) !== undefined, 60_000, `the summary of ${runId}`);

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of pc.store.list(prefix)) keys.push(o.key);
  return keys;
}

/** The failing command on the demo fleet: one failed instance, db-1. */
async function failingRun(): Promise<string> {
  const runId = startedId(await webhook('run web-healthcheck on env=demo'));
  await finished(runId);
  expect((await summaryOf(runId))!.counts.byClass).toMatchObject({ failed: 1 });
  return runId;
}

describe('retry <run>, at its edges', () => {
  it('refuses a run still running with NotRetryable and the reason; stopped, it has no failed instance to retry', async () => {
    const runId = startedId(await webhook('run sleep-demo on env=demo role=web with seconds=120'));
    await waitUntil(async () => (await pc.store.get(`runs/${runId}/manifest.json`)) !== undefined, 30_000, 'the run to start');
    const running = await webhook(`retry ${runId}`);
    expect(running).toEqual({ status: 409, body: { ok: false, code: 'NotRetryable', message: `${runId} is still running; stop it or wait for it to finish, then retry.` } });
    expect((await webhook(`stop ${runId}`)).status).toBe(200);
    await finished(runId);
    // Stopped instances are not failed ones: nothing for the default retry, said at once.
    expect(await webhook(`retry ${runId}`)).toEqual({ status: 409, body: { ok: false, code: 'NotRetryable', message: `${runId} has no failed instances to retry.` } });
    expect((await keysUnder(`runs/${runId}/retries/`))).toEqual([]);
  }, 90_000);

  it('two retries of one run finishing at once: both are listed in its summary.json, summary.md and report; links written at once all converge', async () => {
    const runId = await failingRun();
    // Two requests at once (different words, so no replay): two runs on the one failed instance.
    const [a, b] = await Promise.all([webhook(`retry ${runId}`), webhook(`retry ${runId} failed`)]);
    const retries = [startedId(a), startedId(b)].sort();
    expect(new Set(retries).size).toBe(2);
    for (const id of retries) await finished(id);
    await waitUntil(async () => (await summaryOf(runId))!.retries.length === 2, 20_000, 'both retries linked');
    expect((await summaryOf(runId))!.retries).toEqual(retries);
    expect(await keysUnder(`runs/${runId}/retries/`)).toEqual(retries.map((id) => `runs/${runId}/retries/${id}`));
    const md = (await pc.store.get(`runs/${runId}/summary.md`))!.toString('utf8');
    const html = (await pc.store.get(`runs/${runId}/report.html`))!.toString('utf8');
    for (const id of retries) {
      expect(md).toContain(id);
      expect(html).toContain(id);
    }
    // Its counts are unchanged: only the links were added.
    expect((await summaryOf(runId))!.counts.byClass).toEqual({ success: 3, failed: 1, stopped: 0, skipped: 0 });

    // Six more retries' summarizers linking at the same moment, against the same OSS: every link ends up in the list.
    const more = Array.from({ length: 6 }, (_, i) => `r-20991231t235959-00000${i}`);
    const deps = { store: pc.store, logger: createLogger({ sink: () => {} }) };
    await Promise.all(more.map((id) => linkRetry(deps, runId, id)));
    const all = [...retries, ...more].sort();
    expect((await summaryOf(runId))!.retries).toEqual(all);
    const report = (await pc.store.get(`runs/${runId}/report.html`))!.toString('utf8');
    for (const id of all) expect(report).toContain(id);
  }, 120_000);

  it('an instance that lost the retried run\'s tags: the retry is judged on its instance ids — refused for a user allowed only by the tags, run for one allowed on any target', async () => {
    const runId = await failingRun();
    const before = pc.cloud.ecs.calls.RunCommand ?? 0;
    // Moved out of env=demo since the run.
    pc.cloud.ecs.fleet.get(FAILED)!.tags.env = 'staging';
    try {
      // Chat cannot see tags (it loads no ECS SDK): it hands the retry over, and dispatch refuses it.
      const refusedId = startedId(await webhook(`retry ${runId}`));
      await waitUntil(() => replies.some((r) => r.message.startsWith(`Run ${refusedId} not started`)), 30_000, 'the refusal at dispatch');
      const refusal = replies.find((r) => r.message.startsWith(`Run ${refusedId} not started`))!;
      expect(refusal).toMatchObject({ ok: false, code: 'NotAllowed' });
      expect(refusal.message).toBe(`Run ${refusedId} not started: instance ${FAILED} no longer has the tags env=demo the retried run was allowed on; by instance id, denied: rule "demo-operators" allows only targets chosen by tag`);
      expect((pc.cloud.ecs.calls.RunCommand ?? 0) - before).toBe(0);
      expect(await keysUnder(`runs/${refusedId}/`)).toEqual([]);
      const records: Record<string, unknown>[] = [];
      for await (const o of pc.store.list('audit/')) records.push(JSON.parse((await pc.store.get(o.key))!.toString('utf8')) as Record<string, unknown>);
      expect(records.filter((r) => r.runId === refusedId && (r.outcome as { stage?: string }).stage === 'dispatch')).toEqual([
        expect.objectContaining({ kind: 'run', retryOf: runId, targets: { instanceIds: [FAILED] }, outcome: expect.objectContaining({ result: 'refused', code: 'NotAllowed', policy: refusal.message.replace(`Run ${refusedId} not started: `, '') }) }),
      ]);

      // An operator allowed on any target: the retry runs, on exactly the instance it names.
      const adminId = startedId(await webhook(`retry ${runId}`, 'demo-admin'));
      await finished(adminId);
      const manifest = runManifestSchema.parse(JSON.parse((await pc.store.get(`runs/${adminId}/manifest.json`))!.toString('utf8')));
      expect(manifest.targets).toEqual([FAILED]);
      expect((await summaryOf(adminId))!.instances.map((i) => [i.instanceId, i.status])).toEqual([[FAILED, 'Failed']]);
      // What it is about: the tags its run was allowed on, as recorded once dispatch accepted it.
      expect(JSON.parse((await pc.store.get(`runs/${adminId}/scope.json`))!.toString('utf8'))).toMatchObject({ command: 'web-healthcheck', targets: { tags: { env: 'demo' } } });
      await waitUntil(async () => (await summaryOf(runId))!.retries.includes(adminId), 20_000, 'the retry linked');
      expect((await summaryOf(runId))!.retries).toEqual([adminId]);
    } finally {
      pc.cloud.ecs.fleet.get(FAILED)!.tags.env = 'demo';
    }
  }, 120_000);
});
