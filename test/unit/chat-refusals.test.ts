/**
 * What chatops answers when it refuses a command: the signed webhook a 4xx (or 503) with
 * `{ ok: false, code, message }`, one stable code per refusal; Slack the same 200 answer as ever.
 * Driven through handleChat with the real codecs, catalog and policy parsers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCodecs, MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { REFUSALS, type RefusalCode } from '../../shared/chat/refusals.ts';
import { slackHeaders, webhookHeaders } from '../../shared/chat/sign.ts';
import type { DispatchRequest } from '../../shared/chatops/dispatch-request.ts';
import { handleChat, type ChatopsDeps } from '../../shared/chatops/handle-chat.ts';
import { parseCatalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseAuditKey, parseAuditRecord } from '../../shared/runs/audit.ts';
import { MemoryStore } from '../support/memory-store.ts';

const WEBHOOK_SECRET = 'webhook-secret-for-tests-0001';
const SLACK_SECRET = 'slack-signing-secret-for-tests-0001';
const SEAL_KEY = 'a'.repeat(64);

const CATALOG = parseCatalog(`
commands:
  uptime:
    description: how long each instance has been up
    script: uptime
  greet:
    description: says hello
    script: echo "hello $name"
    parameters:
      name: { description: who, required: true, pattern: '[a-z]{1,10}' }
  probe:
    description: echoes a secret
    script: echo "$token"
    parameters:
      token: { description: a secret, secret: true, required: true }
`);

const POLICY = parsePolicy(`
rules:
  - name: ops
    users: ['webhook:alice', 'slack:U0ALICE']
    commands: ['*']
    targets: { tags: { env: [demo] } }
`);

interface Harness {
  deps: ChatopsDeps;
  dispatched: DispatchRequest[];
  logs: string[];
  store: MemoryStore;
}

function harness(options: { sealKey?: string; callbackOrigins?: string[] } = {}): Harness {
  const dispatched: DispatchRequest[] = [];
  const logs: string[] = [];
  const store = new MemoryStore();
  const deps: ChatopsDeps = {
    codecs: createCodecs({ webhook: { secret: WEBHOOK_SECRET, callbackOrigins: options.callbackOrigins ?? [] }, slack: { signingSecret: SLACK_SECRET } }, new MemoryReplayGuard()),
    catalog: CATALOG,
    policy: POLICY,
    jobs: [],
    store,
    dispatcher: { dispatch: async (r) => void dispatched.push(r) },
    sealKey: options.sealKey ?? SEAL_KEY,
    logger: createLogger({ sink: (l) => logs.push(l) }),
  };
  return { deps, dispatched, logs, store };
}

async function webhook(h: Harness, text: string, user = 'alice') {
  const body = JSON.stringify({ user, text });
  const res = await handleChat({ method: 'POST', path: '/webhook', headers: webhookHeaders(WEBHOOK_SECRET, body), query: {}, body: Buffer.from(body) }, h.deps);
  return { status: res.statusCode, json: JSON.parse(String(res.body ?? '{}')) as { ok: boolean; code?: string; message: string } };
}

async function slack(h: Harness, text: string, user = 'U0ALICE') {
  const body = new URLSearchParams({ command: '/fleetrun', text, user_id: user, channel_id: 'C0OPS', response_url: 'https://hooks.slack.com/commands/T1/2/abc' }).toString();
  const res = await handleChat({ method: 'POST', path: '/slack', headers: slackHeaders(SLACK_SECRET, body), query: {}, body: Buffer.from(body) }, h.deps);
  return { status: res.statusCode, json: JSON.parse(String(res.body ?? '{}')) as { text: string } };
}

/** Each refusal: a command that provokes it, what the message says, and the Harness it needs. */
const CASES: { code: RefusalCode; text: string; user?: string; says: RegExp; sealKey?: string }[] = [
  { code: 'BadGrammar', text: 'run uptime onn env=demo', says: /did you mean "on"/ },
  { code: 'BadGrammar', text: 'deploy everything', says: /unknown command "deploy"/ },
  { code: 'UnknownCommand', text: 'run uptim on env=demo', says: /unknown command "uptim" — did you mean "uptime"/ },
  { code: 'BadParameters', text: 'run greet on env=demo with name=BOB', says: /does not match the pattern/ },
  { code: 'BadParameters', text: 'run greet on env=demo', says: /greet needs "name"/ },
  { code: 'NotAllowed', text: 'run uptime on env=demo', user: 'mallory', says: /^Not allowed: no rule lets webhook:mallory/ },
  { code: 'NotAllowed', text: 'run uptime on env=prod', says: /^Not allowed: .*env=prod/ },
  { code: 'UnknownRun', text: 'status r-20261123t101500-1a2b3c', says: /^No run r-20261123t101500-1a2b3c\.$/ },
  { code: 'UnknownRun', text: 'stop r-20261123t101500-1a2b3c', says: /^No run r-20261123t101500-1a2b3c\.$/ },
  { code: 'UnknownRun', text: 'retry r-20261123t101500-1a2b3c', says: /^No run r-20261123t101500-1a2b3c\.$/ },
  { code: 'UnknownRun', text: 'approve r-20261123t101500-1a2b3c', says: /^No run r-20261123t101500-1a2b3c is waiting for approval\.$/ },
  { code: 'UnknownRun', text: 'deny r-20261123t101500-1a2b3c', says: /^No run r-20261123t101500-1a2b3c is waiting for approval\.$/ },
  { code: 'NoSealKey', text: 'run probe on env=demo with token=hunter22', says: /no seal key is configured/, sealKey: '' },
];

describe('Function: handleChat — refusals on the signed webhook', () => {
  it.each(CASES)('$code for "$text": its status, ok:false, the code and the reason; nothing dispatched', async ({ code, text, user, says, sealKey }) => {
    const h = harness(sealKey !== undefined ? { sealKey } : {});
    const answer = await webhook(h, text, user);
    expect(answer.status).toBe(REFUSALS[code].status);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.json).toMatchObject({ ok: false, code });
    expect(answer.json.message).toMatch(says);
    expect(Object.keys(answer.json).sort()).toEqual(['code', 'message', 'ok']);
    expect(h.dispatched).toEqual([]);
    // Nothing is written but the replay marker and the refusal's one audit record (runs/audit.ts),
    // which names the code and holds no secret value of the request.
    const written = [...h.store.objects.keys()].filter((k) => !k.startsWith('chat/seen/'));
    expect(written).toHaveLength(1);
    expect(parseAuditKey(written[0]!)).toMatchObject({ result: 'refused' });
    const record = parseAuditRecord(h.store.objects.get(written[0]!)!.toString('utf8'));
    expect(record?.outcome).toMatchObject({ result: 'refused', code, reason: REFUSALS[code].meaning });
    expect(record?.who).toEqual({ kind: 'chat', user: `webhook:${user ?? 'alice'}` });
    expect(JSON.stringify(record)).not.toContain('hunter22');
    // One log line per refusal with the code and a fixed reason, never the request's words.
    const refusedLines = h.logs.filter((l) => l.includes('"message":"chat request refused"'));
    expect(refusedLines).toHaveLength(1);
    expect(JSON.parse(refusedLines[0]!)).toMatchObject({ platform: 'webhook', code, reason: REFUSALS[code].meaning });
    expect(refusedLines[0]).not.toContain('hunter22');
  });

  it('each code\'s meaning names the commands that answer with it (UnknownRun: status, stop, retry, approve, deny)', () => {
    for (const { code, text } of CASES) {
      const verb = text.split(' ')[0]!;
      // Codes about one command kind name it; the grammar's and the policy's apply to any text.
      if (code === 'UnknownRun' || code === 'UnknownCommand') expect(REFUSALS[code].meaning, `${code} for ${verb}`).toMatch(new RegExp(`\\b${verb}\\b`));
    }
    expect(CASES.filter((c) => c.code === 'UnknownRun').map((c) => c.text.split(' ')[0]).sort()).toEqual(['approve', 'deny', 'retry', 'status', 'stop']);
  });

  it('the statuses are the documented ones: 400 grammar and unknown command, 422 values, 403 policy, 404 run, 409 retry of a run not retryable now, 503 seal key', () => {
    expect(Object.fromEntries(Object.entries(REFUSALS).map(([c, r]) => [c, r.status]))).toEqual({
      BadRequest: 400,
      BadSignature: 401,
      Expired: 401,
      Replayed: 401,
      BadGrammar: 400,
      UnknownCommand: 400,
      BadParameters: 422,
      NotAllowed: 403,
      UnknownRun: 404,
      NoSealKey: 503,
      NotRetryable: 409,
      NotPending: 409,
      SelfApproval: 403,
      CallbackNotAllowed: 400,
    });
  });

  it('a request refused before the command (signature, body) answers ok:false with its code too', async () => {
    const h = harness();
    const body = JSON.stringify({ user: 'alice', text: 'run uptime on env=demo' });
    const request = (headers: Record<string, string>, raw = body) => handleChat({ method: 'POST', path: '/webhook', headers, query: {}, body: Buffer.from(raw) }, h.deps);
    const answer = async (headers: Record<string, string>, raw?: string) => {
      const res = await request(headers, raw);
      return { status: res.statusCode, json: JSON.parse(String(res.body ?? '{}')) as { ok: boolean; code: string; message: string } };
    };
    const forged = await answer(webhookHeaders('another-secret-entirely-0002', body));
    expect(forged).toEqual({ status: 401, json: { ok: false, code: 'BadSignature', message: REFUSALS.BadSignature.meaning } });
    const { 'x-fleetrun-signature': _s, ...unsigned } = webhookHeaders(WEBHOOK_SECRET, body);
    // Which check failed is logged, not answered: a missing header and a wrong signature read the same.
    expect(await answer(unsigned)).toEqual(forged);
    expect(await answer(webhookHeaders(WEBHOOK_SECRET, body, new Date(Date.now() - 10 * 60_000)))).toMatchObject({ status: 401, json: { ok: false, code: 'Expired' } });
    const signed = webhookHeaders(WEBHOOK_SECRET, body);
    expect((await answer(signed)).status).toBe(200);
    expect(await answer(signed)).toMatchObject({ status: 401, json: { ok: false, code: 'Replayed' } });
    expect(await answer(webhookHeaders(WEBHOOK_SECRET, 'not json'), 'not json')).toMatchObject({ status: 400, json: { ok: false, code: 'BadRequest', message: 'body is not JSON' } });
    const extra = JSON.stringify({ user: 'alice', text: 'help', callbackURL: 'https://x.example' });
    expect(await answer(webhookHeaders(WEBHOOK_SECRET, extra), extra)).toMatchObject({ status: 400, json: { ok: false, code: 'BadRequest' } });
    expect(h.dispatched).toHaveLength(1);
  });

  it('a callbackUrl off the listed origins is CallbackNotAllowed (400) before the command; a listed one goes through', async () => {
    const h = harness({ callbackOrigins: ['https://ci.example.com'] });
    const answer = async (callbackUrl: string) => {
      const body = JSON.stringify({ user: 'alice', text: 'run uptime on env=demo', callbackUrl });
      const res = await handleChat({ method: 'POST', path: '/webhook', headers: webhookHeaders(WEBHOOK_SECRET, body), query: {}, body: Buffer.from(body) }, h.deps);
      return { status: res.statusCode, json: JSON.parse(String(res.body)) as { ok: boolean; code?: string; message: string } };
    };
    for (const url of ['http://127.0.0.1:8080/_fleet/instances/i-1/agent?online=false', 'http://169.254.169.254/latest', 'http://100.100.100.200/latest/meta-data', 'https://ci.example.com.evil.example/x', 'http://ci.example.com/cb', 'https://ci.example.com:8443/cb']) {
      expect(await answer(url), url).toMatchObject({ status: 400, json: { ok: false, code: 'CallbackNotAllowed' } });
    }
    expect(h.dispatched).toEqual([]);
    expect(await answer('https://ci.example.com/fleetrun/cb?thread=1')).toMatchObject({ status: 200, json: { ok: true } });
    expect(h.dispatched).toHaveLength(1);
    expect(h.dispatched[0]).toMatchObject({ replyTo: { platform: 'webhook', callbackUrl: 'https://ci.example.com/fleetrun/cb?thread=1' } });
  });

  it('answers that are not refusals keep 200 and ok:true', async () => {
    const h = harness();
    expect(await webhook(h, 'help')).toMatchObject({ status: 200, json: { ok: true, message: expect.stringContaining('run <command>') } });
    expect(await webhook(h, 'jobs')).toMatchObject({ status: 200, json: { ok: true, message: 'No scheduled jobs.' } });
    const started = await webhook(h, 'run greet on env=demo with name=bob');
    expect(started).toMatchObject({ status: 200, json: { ok: true, message: expect.stringMatching(/^Run r-\S+ started/) } });
    expect(started.json).not.toHaveProperty('code');
    expect(h.dispatched).toHaveLength(1);
    expect(h.logs.filter((l) => l.includes('"message":"chat request refused"'))).toEqual([]);
    const runId = h.dispatched[0]!.runId;
    expect(h.store.objects.has(runKeys.pendingDispatch(runId))).toBe(true);
  });
});

describe('Function: handleChat — refusals on Slack keep the platform answer', () => {
  it.each(CASES.filter((c) => c.user === undefined))('$code for "$text": 200 with the text Slack shows', async ({ text, says, sealKey }) => {
    const h = harness(sealKey !== undefined ? { sealKey } : {});
    const answer = await slack(h, text);
    expect(answer.status).toBe(200);
    expect(answer.json.text).toMatch(new RegExp(says.source.replace(/^\^/, '')));
    expect(answer.json).not.toHaveProperty('ok');
    expect(answer.json).not.toHaveProperty('code');
    expect(h.dispatched).toEqual([]);
  });
});

describe('README: the webhook refusal codes', () => {
  it('lists every code with its status, and no other', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('#### Webhook answers')[1]?.split(/^#/m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Za-z]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(REFUSALS).map(([c, r]) => [c, r.status])));
  });
});
