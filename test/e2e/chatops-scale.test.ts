/**
 * A 250-instance run started from chat: chatops hands it to dispatch (asynchronous invoke),
 * dispatch checks the policy on the resolved count and fans out in three calls, and the thread
 * gets exactly one summary reply. A rule's maxTargets refuses a run that resolves to more, and
 * such a run leaves nothing under runs/<id>/ (what a run is about is recorded only once accepted).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const N = 250;
const FLEET = `instances:\n${Array.from({ length: N }, (_, i) => `  - { id: i-bigchat${String(i).padStart(6, '0')}, tags: { env: big } }`).join('\n')}\n`;
const POLICY = `rules:
  - name: big-ops
    users: ['webhook:big-ops']
    commands: ['*']
    targets: { tags: { env: [big] } }
    maxTargets: 300
  - name: small-ops
    users: ['webhook:small-ops']
    commands: ['*']
    targets: { tags: { env: [big] } }
    maxTargets: 50
`;

let pc: PipelineCloud;
let dir: string;
let server: Server;
let callbackUrl: string;
const replies: string[] = [];
/** Every follow-up body as posted, for the ok / code a machine reads. */
const posted: { ok: boolean; code?: string; message: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-chat-scale-'));
  await writeFile(path.join(dir, 'policy.yaml'), POLICY);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reply = JSON.parse(body) as { ok: boolean; code?: string; message: string };
      replies.push(reply.message);
      posted.push(reply);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t`;
  pc = await startPipelineCloud(FLEET, {
    chat: { FLEETRUN_POLICY_FILE: path.join(dir, 'policy.yaml'), FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: new URL(callbackUrl).origin },
    // Synthetic agents: no process per instance, so 250 instances take a moment on 2 cores.
    ecs: { synthetic: ({ instanceId }) => ({ durationMs: 50 + (Number(instanceId.slice(-3)) % 7) * 20, exitCode: instanceId.endsWith('7') ? 1 : 0, output: `checked ${instanceId}\n` }) },
  });
}, 60_000);

afterAll(async () => {
  await pc?.close();
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function send(user: string, text: string) {
  const url = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  const body = JSON.stringify({ user, text, callbackUrl });
  const res = await fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  return (await res.json()) as { message: string };
}

describe('a large run from chat', () => {
  it('goes through dispatch in calls of ≤100 and ends in one summary reply', async () => {
    const ack = await send('big-ops', 'run uptime on env=big');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.message)![1]!;
    await waitUntil(() => replies.some((r) => r.includes(runId) && r.includes('succeeded')), 90_000, 'the summary reply');
    expect(replies.filter((r) => r.includes(runId) && r.includes('succeeded'))).toHaveLength(1);
    expect(replies.find((r) => r.includes(runId) && r.includes('succeeded'))).toContain(`uptime ${runId}: PartialFailed — 225 succeeded, 25 failed`);
    expect(replies.some((r) => r.includes(`uptime ${runId}: sent to 250 instances in 3 calls`))).toBe(true);
    expect(pc.cloud.ecs.calls.RunCommand).toBe(3);
    expect(pc.cloud.fc!.asyncInvocations.list().filter((i) => i.functionName === 'fleetrun-dispatch')).toHaveLength(1);
    // Accepted: dispatch recorded what the run is about, its targets as asked (run-scope.ts).
    expect(JSON.parse((await pc.store.get(`runs/${runId}/scope.json`))!.toString('utf8'))).toEqual({ version: 1, command: 'uptime', targets: { tags: { env: 'big' } } });
  }, 120_000);

  it("refuses at dispatch a run whose targets resolve to more than the rule's maxTargets", async () => {
    const before = pc.cloud.ecs.calls.RunCommand ?? 0;
    const ack = await send('small-ops', 'run uptime on env=big');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack.message)![1]!;
    await waitUntil(() => replies.some((r) => r.includes(`Run ${runId} not started`)), 30_000, 'the refusal');
    expect((pc.cloud.ecs.calls.RunCommand ?? 0) - before).toBe(0);
    // The refusal at dispatch reaches the webhook's thread the way a machine reads it.
    const refusal = posted.find((r) => r.message.includes(`Run ${runId} not started`))!;
    expect([refusal.ok, refusal.code]).toEqual([false, 'NotAllowed']);
    // Nothing of it is left under runs/<id>/ — no scope.json of a run that never was — and its hand-off record is gone.
    const left: string[] = [];
    for await (const o of pc.store.list(`runs/${runId}/`)) left.push(o.key);
    expect(left).toEqual([]);
    expect(await pc.store.get(`index/dispatch/${runId}.json`)).toBeUndefined();
    expect((await send('small-ops', `status ${runId}`)).message).toBe(`No run ${runId}.`);
  }, 60_000);
});
