/**
 * Refusals over the chatops function's HTTP trigger on the local cloud: the signed webhook answers
 * each with its 4xx status and `{ ok: false, code, message }`, Slack with its usual 200 and text,
 * and no refusal reaches dispatch, OSS's run records or ECS. `fleetrun chat` shows the refusal
 * with its code and exits 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackHeaders, webhookHeaders } from '../../shared/chat/sign.ts';
import { chatCommand } from '../../local/cli/chat-command.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const FLEET = `instances:
  - { id: i-bp1refuse0001, name: web-1, tags: { env: demo } }
  - { id: i-bp1refuse0002, name: prod-1, tags: { env: prod } }
`;

let pc: PipelineCloud;
let chatUrl: string;

beforeAll(async () => {
  pc = await startPipelineCloud(FLEET);
  chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  await pc?.close();
});

async function webhook(text: string, user = 'demo-ci') {
  const body = JSON.stringify({ user, text });
  const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { ok: boolean; code?: string; message: string } };
}

/** Nothing a refusal may leave behind: no hand-off to dispatch, no run or pending-dispatch record, no ECS call. */
async function traces(): Promise<unknown> {
  const keys: string[] = [];
  for (const prefix of ['runs/', 'index/']) for await (const o of pc.store.list(prefix)) keys.push(o.key);
  return { invocations: pc.cloud.fc!.asyncInvocations.list().length, keys, ecs: pc.cloud.ecs.calls };
}

describe('refused chat commands over the HTTP trigger', () => {
  it('the webhook answers each refusal with its 4xx status, ok:false and the code; nothing is dispatched', async () => {
    const cases = [
      { text: 'run uptime onn env=demo', status: 400, code: 'BadGrammar', says: /did you mean "on"/ },
      { text: 'run uptme on env=demo', status: 400, code: 'UnknownCommand', says: /unknown command "uptme"/ },
      { text: 'run disk-check on env=demo with mount=relative', status: 422, code: 'BadParameters', says: /does not match the pattern/ },
      { text: 'run uptime on env=prod', status: 403, code: 'NotAllowed', says: /^Not allowed/ },
      { text: 'run uptime on env=demo', user: 'someone-else', status: 403, code: 'NotAllowed', says: /^Not allowed: no rule lets webhook:someone-else/ },
      { text: 'status r-20261123t101500-1a2b3c', status: 404, code: 'UnknownRun', says: /^No run r-20261123t101500-1a2b3c\.$/ },
      { text: 'stop r-20261123t101500-1a2b3c', status: 404, code: 'UnknownRun', says: /^No run/ },
    ];
    for (const c of cases) {
      const answer = await webhook(c.text, c.user);
      expect(answer, c.text).toMatchObject({ status: c.status, body: { ok: false, code: c.code } });
      expect(answer.type).toMatch(/^application\/json/);
      expect(answer.body.message, c.text).toMatch(c.says);
    }
    await pc.cloud.fc!.asyncInvocations.idle(10_000);
    expect(await traces()).toEqual({ invocations: 0, keys: [], ecs: {} });
    // Not a refusal: help still answers 200 and ok:true.
    expect(await webhook('help')).toMatchObject({ status: 200, body: { ok: true, message: expect.stringContaining('run <command>') } });
  }, 60_000);

  it('a forged webhook request answers 401 with ok:false and BadSignature', async () => {
    const body = JSON.stringify({ user: 'demo-ci', text: 'run uptime on env=demo' });
    const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: webhookHeaders('not-the-webhook-secret', body) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, code: 'BadSignature' });
  });

  it('Slack gets its usual 200 answer with the text for the same refusal', async () => {
    const body = new URLSearchParams({ command: '/fleetrun', text: 'run uptime on env=prod', user_id: 'U0DEMOUSER', channel_id: 'C0DEMO', response_url: 'https://hooks.slack.com/commands/T1/2/abc' }).toString();
    const res = await fetch(`${chatUrl}/slack`, { method: 'POST', body, headers: slackHeaders(DEMO_CHAT.FLEETRUN_SLACK_SIGNING_SECRET, body) });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Record<string, unknown>;
    expect(answer.text).toMatch(/^Not allowed/);
    expect(answer).not.toHaveProperty('code');
    expect(await traces()).toEqual({ invocations: 0, keys: [], ecs: {} });
  });

  it('fleetrun chat prints the refusal with its code and exits 1', async () => {
    const lines: string[] = [];
    const code = await chatCommand(['--url', chatUrl, 'run uptime on env=prod'], (l) => lines.push(l));
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^refused \(NotAllowed\): Not allowed: /)]);
    expect(await chatCommand(['--url', chatUrl, 'help'], (l) => lines.push(l))).toBe(0);
    expect(await traces()).toEqual({ invocations: 0, keys: [], ecs: {} });
  }, 30_000);
});
