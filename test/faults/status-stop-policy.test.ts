/**
 * Issue 14, item 5: `status` and `stop` were not checked by the access policy against the run's
 * targets, so a user allowed only env=demo could see, and stop, another user's production run.
 * Here prod-ops starts a run on env=prod that works for a few seconds; while it runs, demo-ops
 * (allowed only env=demo) asks for its status and to stop it, over the signed webhook of the local
 * cloud. Both are refused NotAllowed (403) with the reason, no stop reaches dispatch, and the run
 * ends Success with its one final reply; prod-ops itself may see it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread } from '../../local/cli/chat-thread.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { summaryOf } from '../support/run-checks.ts';

const FLEET = `instances:
  - { id: i-prod00000001, name: prod-1, tags: { env: prod } }
  - { id: i-prod00000002, name: prod-2, tags: { env: prod } }
  - { id: i-demo00000001, name: demo-1, tags: { env: demo } }
`;
const CATALOG = `commands:
  slow-task:
    description: Marks its start, works a few seconds, ends well
    timeout: 60
    script: |
      echo started > started
      sleep 4
      echo done
`;
const POLICY = `rules:
  - name: demo-ops
    users: ['webhook:demo-ops']
    commands: ['*']
    targets: { tags: { env: [demo] } }
  - name: prod-ops
    users: ['webhook:prod-ops']
    commands: ['*']
    targets: { tags: { env: [prod] } }
`;

let pc: PipelineCloud;
let dir: string;
let sandboxRoot: string;
let thread: ChatThread;
const replies: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-status-stop-policy-'));
  sandboxRoot = path.join(dir, 'fleet');
  await writeFile(path.join(dir, 'catalog.yaml'), CATALOG);
  await writeFile(path.join(dir, 'policy.yaml'), POLICY);
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (m) => replies.push(m.message));
  pc = await startPipelineCloud(FLEET, {
    sandboxRoot,
    chat: { FLEETRUN_CATALOG_FILE: path.join(dir, 'catalog.yaml'), FLEETRUN_POLICY_FILE: path.join(dir, 'policy.yaml') },
  });
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
  await rm(dir, { recursive: true, force: true });
});

async function say(user: string, text: string): Promise<{ status: number; body: { ok: boolean; code?: string; message: string } }> {
  const url = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  const body = JSON.stringify({ user, text, callbackUrl: thread.url });
  const res = await fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  return { status: res.status, body: (await res.json()) as { ok: boolean; code?: string; message: string } };
}

describe('a user allowed only env=demo and another user\'s production run', () => {
  it('can neither see its status nor stop it; the run ends as it would have', async () => {
    // Prepare: prod-ops's run, at work on both production instances.
    const ack = await say('prod-ops', 'run slow-task on env=prod');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.body.message)?.[1];
    expect(runId, ack.body.message).toBeDefined();
    const started = (id: string) => existsSync(path.join(sandboxRoot, id, 'root', 'started'));
    await waitUntil(() => started('i-prod00000001') && started('i-prod00000002'), 30_000, 'both production instances to start');

    // Act: demo-ops asks about it and to stop it while it runs.
    const status = await say('demo-ops', `status ${runId}`);
    const stop = await say('demo-ops', `stop ${runId}`);

    // Assess: both refused with the reason, and nothing of the run was shown.
    const refused = { ok: false, code: 'NotAllowed', message: 'Not allowed: denied: rule "demo-ops" does not allow tag env=prod (env may be demo)' };
    expect(status).toEqual({ status: 403, body: refused });
    expect(stop).toEqual({ status: 403, body: refused });
    // The rightful user still sees it (it is running: the refusals are not about an unknown run).
    expect(await say('prod-ops', `status ${runId}`)).toMatchObject({ status: 200, body: { ok: true, message: expect.stringMatching(new RegExp(`^slow-task ${runId}: [0-2]/2 instances finished`)) } });

    // The run ends Success, unstopped, with one final reply and no stop anywhere.
    const isFinal = (r: string) => r.startsWith(`slow-task ${runId}: `) && r.includes('succeeded');
    await waitUntil(() => replies.some(isFinal), 45_000, 'the final reply');
    const summary = await summaryOf(pc.store, runId!);
    expect(summary.status).toBe('Success');
    expect(summary.counts.byClass).toEqual({ success: 2, failed: 0, stopped: 0, skipped: 0 });
    await pc.cloud.fc!.asyncInvocations.idle(30_000);
    expect(replies.filter(isFinal)).toEqual([expect.stringContaining(`slow-task ${runId}: Success — 2 succeeded, 0 failed, 0 stopped, 0 not run`)]);
    expect(replies.filter((r) => r.includes('stop requested'))).toEqual([]);
    expect(await pc.store.get(`runs/${runId}/stop-requested`)).toBeUndefined();
    expect(pc.cloud.ecs.calls.StopInvocation ?? 0).toBe(0);
    // The demo instance was never touched.
    expect(started('i-demo00000001')).toBe(false);
  }, 90_000);
});
