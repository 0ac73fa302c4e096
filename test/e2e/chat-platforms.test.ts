/**
 * Every chat platform through the deployed chatops function: a genuine signed command is accepted
 * and starts exactly one run; the same command forged, expired or replayed gets 401 and starts
 * nothing. Replies go to a loopback "platform" (allowed as a reply origin for the test).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dingtalkHeaders, larkEncrypt, larkHeaders, slackHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { fleetOf, startPipelineCloud, type PipelineCloud } from '../support/pipeline-cloud.ts';

let pc: PipelineCloud;
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  pc = await startPipelineCloud(fleetOf('plat', [{ name: 'web', count: 2 }]).replaceAll('env: plat', 'env: demo'), {
    chat: { FLEETRUN_SLACK_RESPONSE_ORIGINS: origin, FLEETRUN_DINGTALK_WEBHOOK_ORIGINS: origin },
  });
}, 60_000);
afterAll(async () => {
  await pc?.close();
  server?.close();
});

type Req = { path: string; body: string; headers: Record<string, string> };
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);

function slack(now = new Date(), secret: string = DEMO_CHAT.FLEETRUN_SLACK_SIGNING_SECRET): Req {
  const body = new URLSearchParams({ command: '/fleetrun', text: 'run uptime on env=demo', user_id: 'U0DEMOUSER', channel_id: 'C1', response_url: `${origin}/slack`, trigger_id: `t-${Math.random()}` }).toString();
  return { path: '/slack', body, headers: slackHeaders(secret, body, now) };
}
function dingtalk(now = new Date(), secret: string = DEMO_CHAT.FLEETRUN_DINGTALK_APP_SECRET): Req {
  const body = JSON.stringify({ msgtype: 'text', text: { content: 'run uptime on env=demo' }, senderStaffId: 'demo-user', senderNick: 'Demo', conversationId: 'cid1', conversationType: '2', sessionWebhook: `${origin}/dingtalk`, sessionWebhookExpiredTime: Date.now() + 3_600_000, msgId: `m-${Math.random()}` });
  return { path: '/dingtalk', body, headers: dingtalkHeaders(secret, now) };
}
function lark(now = new Date(), secret: string = DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY): Req {
  const event = { schema: '2.0', header: { event_id: `e-${Math.random()}`, event_type: 'im.message.receive_v1', create_time: String(now.getTime()) }, event: { sender: { sender_id: { open_id: 'ou_demo_user' }, sender_type: 'user' }, message: { message_id: 'om_1', chat_id: 'oc_1', message_type: 'text', content: JSON.stringify({ text: 'run uptime on env=demo' }) } } };
  const body = JSON.stringify({ encrypt: larkEncrypt(DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY, JSON.stringify(event)) });
  return { path: '/lark', body, headers: larkHeaders(secret, body, now) };
}

async function send(r: Req): Promise<number> {
  const url = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  return (await fetch(`${url}${r.path}`, { method: 'POST', body: r.body, headers: r.headers })).status;
}

async function runCommands(): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  return pc.cloud.ecs.calls.RunCommand ?? 0;
}

describe.each([
  ['slack', slack],
  ['dingtalk', dingtalk],
  ['lark', lark],
] as const)('%s', (_name, make) => {
  it('accepts a genuine command, refuses forged, expired and replayed ones, and runs once', async () => {
    const before = await runCommands();
    const genuine = make();
    expect(await send(genuine)).toBe(200);
    expect(await send(genuine)).toBe(401);
    expect(await send(make(new Date(), 'a-forged-secret-of-some-length'))).toBe(401);
    expect(await send(make(ago(120)))).toBe(401);
    expect((await runCommands()) - before).toBe(1);
  }, 30_000);
});
