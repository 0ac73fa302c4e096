/**
 * Issue 14, item 4: the webhook's `callbackUrl` accepted any URL. A signed request with
 * `callbackUrl=http://127.0.0.1:…/_fleet/instances/…/agent?online=false` made fleetrun POST its
 * replies to the local ECS control plane and take an agent offline. On the whole local cloud:
 * - a signed request whose callbackUrl is that control plane (not listed) is refused at once with
 *   CallbackNotAllowed, dispatches nothing, and the agent stays online;
 * - a run whose stored reply target is that URL (started past chatops, as the library can) gets no
 *   reply there from any function either: the senders hold the same list;
 * - a listed origin gets the signed replies, the final one with its report link;
 * - a listed origin that answers with a redirect to the control plane is not followed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const FLEET = `instances:
  - { id: i-bp1callback0001, name: web-1, tags: { env: demo } }
  - { id: i-bp1callback0002, name: web-2, tags: { env: demo } }
  - { id: i-bp1victim00001, name: victim-1, tags: { env: other } }
`;
const VICTIM = 'i-bp1victim00001';

let pc: PipelineCloud;
let chatUrl: string;
/** The listed callback origin: `/thread` takes replies, `/redirect` answers 307 to the control plane. */
let receiver: Server;
let receiverOrigin: string;
const received: { path: string; message: string; link?: unknown }[] = [];
let controlPlaneUrl: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { message: string; link?: unknown };
      received.push({ path: req.url ?? '', ...reply });
      if (req.url === '/redirect') res.writeHead(307, { location: controlPlaneUrl }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverOrigin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  pc = await startPipelineCloud(FLEET, { chat: { FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: receiverOrigin }, functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '1' } });
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  controlPlaneUrl = `http://${pc.cloud.ecs.endpoint}/_fleet/instances/${VICTIM}/agent?online=false`;
}, 60_000);

afterAll(async () => {
  await pc?.close();
  receiver?.close();
});

// Each case starts with the agent online, so each shows on its own whether a reply reached the control plane.
beforeEach(async () => {
  await fetch(controlPlaneUrl.replace('online=false', 'online=true'), { method: 'POST' });
  expect(await victimOnline()).toBe(true);
});

async function webhook(text: string, callbackUrl: string): Promise<{ status: number; body: { ok: boolean; code?: string; message: string } }> {
  const body = JSON.stringify({ user: 'demo-ci', text, callbackUrl });
  const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; code?: string; message: string } };
}

async function victimOnline(): Promise<boolean> {
  const res = await fetch(`http://${pc.cloud.ecs.endpoint}/_fleet/instances`);
  const { instances } = (await res.json()) as { instances: { id: string; agent: { online: boolean } }[] };
  return instances.find((i) => i.id === VICTIM)!.agent.online;
}

async function finished(runId: string): Promise<void> {
  await waitUntil(async () => (await pc.store.get(runKeys.summaryJson(runId))) !== undefined, 60_000, `run ${runId} to be summarized`);
  await pc.cloud.fc!.asyncInvocations.idle(20_000);
}

describe('webhook callbackUrl: only to listed origins, no redirects', () => {
  it('refuses a signed request whose callbackUrl is the local control plane: CallbackNotAllowed, nothing dispatched, the agent stays online', async () => {
    const answer = await webhook('run uptime on env=demo', controlPlaneUrl);
    expect(answer).toMatchObject({ status: 400, body: { ok: false, code: 'CallbackNotAllowed' } });
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(pc.cloud.fc!.asyncInvocations.list()).toEqual([]);
    expect(await victimOnline()).toBe(true);
  }, 30_000);

  it('sends no reply there from any function for a run whose stored reply target is the control plane', async () => {
    const manifest = await pc.run({ command: { name: 'uptime', type: 'RunShellScript', script: 'uptime', timeoutSeconds: 30 }, targets: { tags: { env: 'demo' } }, requestedBy: { kind: 'cli' }, replyTo: { platform: 'webhook', callbackUrl: controlPlaneUrl } });
    await finished(manifest.runId);
    expect(await victimOnline()).toBe(true);
  }, 90_000);

  it('replies to a listed origin, signed, down to the final reply with its report link', async () => {
    received.length = 0;
    const answer = await webhook('run uptime on env=demo', `${receiverOrigin}/thread`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const runId = /Run (r-\S+) started/.exec(answer.body.message)![1]!;
    await finished(runId);
    await waitUntil(() => received.some((r) => r.link !== undefined), 20_000, 'the final reply');
    expect(received.every((r) => r.path === '/thread')).toBe(true);
    expect(received.find((r) => r.link !== undefined)!.message).toContain(runId);
  }, 90_000);

  it('does not follow a redirect from the listed origin to the control plane', async () => {
    received.length = 0;
    const answer = await webhook('run uptime on env=demo', `${receiverOrigin}/redirect`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const runId = /Run (r-\S+) started/.exec(answer.body.message)![1]!;
    await finished(runId);
    await waitUntil(() => received.some((r) => r.link !== undefined), 20_000, 'the final reply, answered with a redirect');
    expect(received.every((r) => r.path === '/redirect')).toBe(true);
    expect(await victimOnline()).toBe(true);
  }, 90_000);
});
