/**
 * A chat user asks `stop` while a run is in flight: the run was asked for with `concurrency 2`, so
 * the dispatch function is still holding back four of its six instances, waiting for the first two
 * (a long script) to finish. The stop must reach both what runs (Terminated, its whole process tree
 * gone) and what dispatch still holds (never sent: Cancelled), the thread must get one final reply,
 * and nothing may start after the stop or run twice.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { isAlive } from '../support/ecs-test-cloud.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';

const N = 6;
const IDS = Array.from({ length: N }, (_, n) => `i-halt${String(n).padStart(6, '0')}`);
// ProcessTree: a stop ends the `sleep` as well as the shell running it.
const CATALOG = `commands:
  long-task:
    description: Marks its start, works for a long while, marks its end
    timeout: 120
    terminationMode: ProcessTree
    script: |
      echo $$ > started
      sleep 60 &
      echo $! >> started
      wait
      echo done > finished
`;
const POLICY = `rules:
  - name: halt-ops
    users: ['webhook:halt-ops']
    commands: ['*']
    targets: { tags: { env: [halt] } }
    maxTargets: 10
`;

let pc: PipelineCloud;
let dir: string;
let sandboxRoot: string;
let server: Server;
let callbackUrl: string;
const replies: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-chat-stop-'));
  sandboxRoot = path.join(dir, 'fleet');
  await writeFile(path.join(dir, 'catalog.yaml'), CATALOG);
  await writeFile(path.join(dir, 'policy.yaml'), POLICY);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      replies.push((JSON.parse(body) as { message: string }).message);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/thread`;
  pc = await startPipelineCloud(fleetOf('halt', [{ name: 'node', count: N }]), {
    sandboxRoot,
    chat: { FLEETRUN_CATALOG_FILE: path.join(dir, 'catalog.yaml'), FLEETRUN_POLICY_FILE: path.join(dir, 'policy.yaml'), FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: new URL(callbackUrl).origin },
  });
}, 60_000);

afterAll(async () => {
  await pc?.close();
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function say(text: string): Promise<string> {
  const url = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  const body = JSON.stringify({ user: 'halt-ops', text, callbackUrl });
  const res = await fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { message: string }).message;
}

const marker = (instanceId: string, name: string) => path.join(sandboxRoot, instanceId, 'root', name);

describe('stop from chat while the run is in flight', () => {
  it('ends running instances Terminated and held-back ones Cancelled, with one final reply', async () => {
    // Prepare: the run, two instances at a time, and its first two instances at work.
    const ack = await say('run long-task on env=halt concurrency 2');
    const runId = /Run (r-[a-z0-9-]+) started/.exec(ack)?.[1];
    expect(runId, ack).toBeDefined();
    await waitUntil(() => IDS.filter((id) => existsSync(marker(id, 'started'))).length === 2, 30_000, 'the first two instances to start');
    const running = IDS.filter((id) => existsSync(marker(id, 'started')));

    // Act
    const stopAt = new Date();
    expect(await say(`stop ${runId}`)).toBe(`Stopping ${runId}…`);

    // Assess: one final reply, and a summary with every instance once.
    const isFinal = (r: string) => r.startsWith(`long-task ${runId}: Stopped`);
    await waitUntil(() => replies.some(isFinal), 45_000, 'the final reply');
    const summary = await summaryOf(pc.store, runId!);
    const expected = new Map<string, InstanceStatus>(IDS.map((id) => [id, running.includes(id) ? 'Terminated' : 'Cancelled']));
    expectExactSummary(summary, expected);
    expect(summary.status).toBe('Stopped');
    expect(replies.filter(isFinal)[0]).toContain('0 succeeded, 0 failed, 6 stopped, 0 not run');

    // Nothing started after the stop, nothing ran twice, no process of the script is left.
    const log = pc.cloud.ecs.agents.executionLog;
    expect(log.map((e) => e.instanceId).sort()).toEqual(running);
    expect(log.filter((e) => e.startedAt >= stopAt)).toEqual([]);
    expectEachExecutedOnce(pc.cloud.ecs);
    const pids = (await Promise.all(running.map((id) => readFile(marker(id, 'started'), 'utf8')))).flatMap((t) => t.trim().split('\n').map(Number));
    expect(pids).toHaveLength(4);
    await waitUntil(() => pids.every((p) => !isAlive(p)), 5_000, 'the scripts to be gone');
    expect(IDS.filter((id) => existsSync(marker(id, 'finished')))).toEqual([]);

    // Whatever is still in flight settles without a second reply.
    await pc.cloud.fc!.asyncInvocations.idle(30_000);
    await pc.cloud.bus.drain();
    expect(replies.filter(isFinal)).toHaveLength(1);
    expect(replies.filter((r) => r.startsWith(`long-task ${runId}: stop requested`))).toHaveLength(1);
    expect(replies).toContain(`long-task ${runId}: sent to 2 instances in 1 call; 4 set aside (StopRequested).`);
    expect(pc.cloud.fc!.asyncInvocations.list().every((i) => i.status === 'succeeded')).toBe(true);
  }, 90_000);
});
