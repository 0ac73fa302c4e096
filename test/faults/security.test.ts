/**
 * Nobody in, nothing out, on the whole local cloud:
 * - every chat platform (Slack, DingTalk, Lark, the signed webhook) takes a genuine signed command
 *   once, and refuses with 401 — starting nothing — the same command forged, tampered with,
 *   unsigned, expired, from the future or replayed; a user outside the policy is told no and starts
 *   nothing;
 * - a full chat → run → summary → reply scenario with secret parameters leaves no secret (the
 *   parameter values, the access key secret, the chat secrets, the seal key) in any log line of any
 *   function, any MNS message, any OSS object in any bucket, or any chat reply — plain, JSON-escaped,
 *   URL-encoded or base64;
 * - chatops answers a body over its configured limit with 413 and malformed JSON with 400.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dingtalkHeaders, larkEncrypt, larkHeaders, slackHeaders, webhookHeaders } from '../../shared/chat/sign.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { parseFleet } from '../../local/ecs/fleet.ts';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../../local/local-cloud.ts';
import { waitForObject, waitUntil } from '../../local/cli/harness/pipeline-cloud.ts';
import { fetchReportsInto, secretsEverywhere, startRepliesRecorder, type RecordedReply, type RepliesRecorder } from '../support/replies-recorder.ts';
import { findSecrets, scanFiles } from '../support/secret-scan.ts';

/** Distinct, recognisable values, so a hit names what leaked. */
const KEY = { id: 'sec-test-key', secret: 'AKSECRET-leakcheck-4e1f9a7c2b' };
const CHAT = {
  FLEETRUN_WEBHOOK_SECRET: 'WHSECRET-leakcheck-8d3b0e6f',
  FLEETRUN_SLACK_SIGNING_SECRET: 'SLACKSECRET-leakcheck-1c7e5a90',
  FLEETRUN_DINGTALK_APP_SECRET: 'DINGSECRET-leakcheck-6b2f4d18',
  FLEETRUN_LARK_ENCRYPT_KEY: 'LARKKEY-leakcheck-3a9c7e21',
} as const;
/** Secret parameter values: one plain, one with characters every encoding changes. */
const PASSWORD = 'PW-leakcheck-5d2c8e1a7f';
const API_KEY = 'AK+leak/check=9&b4~x.y';
/** Not secret: it must show up in the outputs, proving the scan reads what the run produced. */
const VISIBLE = 'VISIBLE-marker-2f8a6c';
/** The chat body limit this cloud's chatops is configured with (the default is 64 KiB). */
const BODY_LIMIT = 16 * 1024;

const FLEET = `instances:
  - { id: i-sec000000000001, name: sec-1, tags: { env: sec } }
  - { id: i-sec000000000002, name: sec-2, tags: { env: sec } }
  - { id: i-sec000000000003, name: sec-3, tags: { env: sec } }
  - { id: i-other0000000001, name: other-1, tags: { env: other } }
`;

const CATALOG = `commands:
  hello:
    description: Says hello
    script: |
      echo "hello from {{ACS::InstanceName}}"
  leak-probe:
    description: Prints its secret parameters, as a careless script would
    script: |
      echo "password is $password"
      echo "api key is $apikey" >&2
      echo "label is $label"
      echo "both: $password/$apikey"
    parameters:
      password: { secret: true, required: true }
      apikey: { secret: true, required: true }
      label: { default: none }
`;

const POLICY = `rules:
  - name: security-operators
    users: ['webhook:sec-ops', 'slack:U0SECOPS', 'dingtalk:sec-ops', 'lark:ou_sec_ops']
    commands: ['*']
    targets:
      tags: { env: [sec] }
    maxTargets: 10
    allowScript: false
`;

let cloud: LocalCloud;
let cloudClosed = false;
let dataDir: string;
let filesDir: string;
let store: AliOssStore;
let chatUrl: string;
let recorder: RepliesRecorder;
let repliesOrigin: string;
const logs: string[] = [];
/** Every follow-up the functions POSTed to a chat platform (headers and body), and every immediate chat answer. */
let replies: RecordedReply[];

beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-security-files-'));
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-security-data-'));
  await writeFile(path.join(filesDir, 'catalog.yaml'), CATALOG);
  await writeFile(path.join(filesDir, 'policy.yaml'), POLICY);
  // Each platform's "accepted" answer: Slack's plain ok, DingTalk's errcode 0, anything for the webhook.
  recorder = await startRepliesRecorder((url) => (url.startsWith('/slack') ? 'ok' : '{"errcode":0}'));
  replies = recorder.replies;
  repliesOrigin = recorder.origin;
  cloud = await startLocalCloud({
    fleet: parseFleet(FLEET),
    accessKeys: { [KEY.id]: KEY.secret },
    sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
    timers: false,
    dataDir,
    log: (line) => logs.push(line),
    chat: {
      ...CHAT,
      FLEETRUN_SLACK_RESPONSE_ORIGINS: repliesOrigin,
      FLEETRUN_DINGTALK_WEBHOOK_ORIGINS: repliesOrigin,
      FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: repliesOrigin,
      FLEETRUN_CATALOG_FILE: path.join(filesDir, 'catalog.yaml'),
      FLEETRUN_POLICY_FILE: path.join(filesDir, 'policy.yaml'),
    },
    functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '1', FLEETRUN_CHAT_MAX_BODY_BYTES: String(BODY_LIMIT) },
  });
  store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret }, endpoint: cloud.oss.endpoint });
  chatUrl = cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  if (!cloudClosed) await cloud?.close();
  recorder?.close();
  await rm(filesDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

type ChatRequest = { path: string; body: string; headers: Record<string, string> };
const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000);
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** One signed command per platform; `secret` signs it, `now` dates it, `user` sends it. */
const platforms = {
  webhook: (text: string, o: { now?: Date; secret?: string; user?: string } = {}): ChatRequest => {
    const body = JSON.stringify({ user: o.user ?? 'sec-ops', text, callbackUrl: `${repliesOrigin}/webhook`, id: `d-${unique()}` });
    return { path: '/webhook', body, headers: webhookHeaders(o.secret ?? CHAT.FLEETRUN_WEBHOOK_SECRET, body, o.now) };
  },
  slack: (text: string, o: { now?: Date; secret?: string; user?: string } = {}): ChatRequest => {
    const body = new URLSearchParams({ command: '/fleetrun', text, user_id: o.user ?? 'U0SECOPS', channel_id: 'C0SEC', response_url: `${repliesOrigin}/slack`, trigger_id: `t-${unique()}` }).toString();
    return { path: '/slack', body, headers: slackHeaders(o.secret ?? CHAT.FLEETRUN_SLACK_SIGNING_SECRET, body, o.now) };
  },
  dingtalk: (text: string, o: { now?: Date; secret?: string; user?: string } = {}): ChatRequest => {
    const now = o.now ?? new Date();
    const body = JSON.stringify({
      msgtype: 'text', text: { content: text }, msgId: `m-${unique()}`, senderStaffId: o.user ?? 'sec-ops', conversationId: 'cid-sec',
      sessionWebhook: `${repliesOrigin}/dingtalk`, sessionWebhookExpiredTime: Date.now() + 3_600_000,
    });
    return { path: '/dingtalk', body, headers: dingtalkHeaders(o.secret ?? CHAT.FLEETRUN_DINGTALK_APP_SECRET, now) };
  },
  lark: (text: string, o: { now?: Date; secret?: string; user?: string } = {}): ChatRequest => {
    const now = o.now ?? new Date();
    const event = {
      schema: '2.0',
      header: { event_id: `e-${unique()}`, event_type: 'im.message.receive_v1', create_time: String(now.getTime()) },
      event: { sender: { sender_id: { open_id: o.user ?? 'ou_sec_ops' }, sender_type: 'user' }, message: { message_id: `om_${unique()}`, chat_id: 'oc_sec', message_type: 'text', content: JSON.stringify({ text }) } },
    };
    const key = o.secret ?? CHAT.FLEETRUN_LARK_ENCRYPT_KEY;
    const body = JSON.stringify({ encrypt: larkEncrypt(key, JSON.stringify(event)) });
    return { path: '/lark', body, headers: larkHeaders(key, body, now) };
  },
} as const;

/** The signature header of each platform, to tamper with. */
const SIGNATURE_HEADER = { webhook: 'x-fleetrun-signature', slack: 'x-slack-signature', dingtalk: 'sign', lark: 'x-lark-signature' } as const;

async function send(r: ChatRequest): Promise<{ status: number; text: string }> {
  const res = await fetch(`${chatUrl}${r.path}`, { method: 'POST', body: r.body, headers: r.headers });
  const text = await res.text();
  replies.push({ path: `ack ${r.path}`, body: text });
  return { status: res.status, text };
}

/** RunCommand calls after every hand-over to dispatch has finished: no sleeping on a guess. */
async function runCommandsSettled(): Promise<number> {
  await cloud.fc!.asyncInvocations.idle(30_000);
  return cloud.ecs.calls.RunCommand ?? 0;
}

describe.each(Object.keys(platforms) as (keyof typeof platforms)[])('%s requests', (name) => {
  const make = platforms[name];

  it('a genuine command runs once; forged, tampered, unsigned, expired, future and replayed copies get 401 and start nothing', async () => {
    const before = await runCommandsSettled();
    const genuine = make('run hello on env=sec');
    expect((await send(genuine)).status).toBe(200);
    // The same signed request again: a replay.
    expect((await send(genuine)).status).toBe(401);
    expect((await send(make('run hello on env=sec', { secret: 'not-the-secret-but-long-enough' }))).status).toBe(401);
    const tampered = make('run hello on env=sec');
    const signature = tampered.headers[SIGNATURE_HEADER[name]]!;
    tampered.headers[SIGNATURE_HEADER[name]] = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    expect((await send(tampered)).status).toBe(401);
    const unsigned = make('run hello on env=sec');
    delete unsigned.headers[SIGNATURE_HEADER[name]];
    expect((await send(unsigned)).status).toBe(401);
    // DingTalk allows an hour of skew; two hours is expired everywhere.
    expect((await send(make('run hello on env=sec', { now: minutesFromNow(-120) }))).status).toBe(401);
    expect((await send(make('run hello on env=sec', { now: minutesFromNow(120) }))).status).toBe(401);
    expect((await runCommandsSettled()) - before).toBe(1);
  }, 60_000);

  it('a body altered after signing gets 401 where the signature covers the body', async () => {
    if (name === 'dingtalk') return; // DingTalk's sign covers only the timestamp; its replay guard is what protects it (above).
    const before = await runCommandsSettled();
    const signed = make('run hello on env=sec');
    // Lark's body is ciphertext: change one character of it; elsewhere retarget the command.
    const body = name === 'lark' ? signed.body.replace(/"encrypt":"(.)/, (_m, c: string) => `"encrypt":"${c === 'A' ? 'B' : 'A'}`) : signed.body.replace('sec', 'other');
    const altered = { ...signed, body };
    expect(altered.body).not.toBe(signed.body);
    expect((await send(altered)).status).toBe(401);
    expect((await runCommandsSettled()) - before).toBe(0);
  });

  it('a user outside the policy is refused and starts nothing', async () => {
    const before = await runCommandsSettled();
    // The signed webhook refuses with 403 and a code a machine can read; the chat platforms need their 200.
    const refusedStatus = name === 'webhook' ? 403 : 200;
    const answer = await send(make('run hello on env=sec', { user: name === 'lark' ? 'ou_stranger' : 'stranger' }));
    expect(answer.status).toBe(refusedStatus);
    if (name !== 'lark') expect(answer.text).toContain('Not allowed');
    if (name === 'webhook') expect(JSON.parse(answer.text)).toMatchObject({ ok: false, code: 'NotAllowed' });
    // Allowed users still may not reach targets outside their rule.
    const elsewhere = await send(make('run hello on env=other'));
    expect(elsewhere.status).toBe(refusedStatus);
    if (name !== 'lark') expect(elsewhere.text).toContain('Not allowed');
    if (name === 'webhook') expect(JSON.parse(elsewhere.text)).toMatchObject({ ok: false, code: 'NotAllowed' });
    expect((await runCommandsSettled()) - before).toBe(0);
    const decisions = logs.filter((l) => l.includes('"policy decision"') && l.includes(`"platform":"${name}"`) && l.includes('"allow":false'));
    expect(decisions.length).toBeGreaterThanOrEqual(2);
  });
});

describe('request size and shape', () => {
  it('a body over the configured limit gets 413 on every platform, before any signature check; one at the limit does not', async () => {
    for (const p of Object.keys(platforms) as (keyof typeof platforms)[]) {
      const over = await send({ path: `/${p}`, body: 'x'.repeat(BODY_LIMIT + 1), headers: { 'content-type': 'application/json' } });
      expect(over.status, p).toBe(413);
      const at = await send({ path: `/${p}`, body: 'x'.repeat(BODY_LIMIT), headers: { 'content-type': 'application/json' } });
      expect([400, 401], p).toContain(at.status);
    }
    expect(logs.some((l) => l.includes('request refused before the handler') && l.includes('"statusCode":413'))).toBe(true);
  });

  it('malformed JSON gets 400 after the signature check, 401 where nothing authenticates it', async () => {
    const broken = '{"user": "sec-ops", "text": "run hello on env=sec"';
    expect((await send({ path: '/webhook', body: broken, headers: webhookHeaders(CHAT.FLEETRUN_WEBHOOK_SECRET, broken) })).status).toBe(400);
    expect((await send({ path: '/dingtalk', body: broken, headers: dingtalkHeaders(CHAT.FLEETRUN_DINGTALK_APP_SECRET) })).status).toBe(400);
    // Lark with an encrypt key: an unsigned body is never parsed as anything but the challenge, so it does not authenticate (issue 14).
    expect((await send({ path: '/lark', body: broken, headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await send({ path: '/lark', body: broken, headers: larkHeaders(CHAT.FLEETRUN_LARK_ENCRYPT_KEY, broken) })).status).toBe(400);
    // Slack's body is a form: a JSON body is simply not a slash command.
    expect((await send({ path: '/slack', body: broken, headers: slackHeaders(CHAT.FLEETRUN_SLACK_SIGNING_SECRET, broken) })).status).toBe(400);
  });
});

describe('secrets', () => {
  it('are redacted from a log line however JSON escapes them', () => {
    const lines: string[] = [];
    const secret = 'quote"back\\slash\nnewline\ttab-secret';
    createLogger({ sink: (l) => lines.push(l), secrets: [secret] }).error('failed', { error: `cannot use ${secret}`, nested: { value: secret } });
    expect(findSecrets(lines.join('\n'), [secret], 'log line')).toEqual([]);
    expect((JSON.parse(lines[0]!) as { error: string }).error).toBe('cannot use ***');
  });

  it('appear in no log line, MNS message, OSS object or chat reply after a full chat → run → summary → reply', async () => {
    const secrets = [PASSWORD, API_KEY, KEY.secret, cloud.sealKey, ...Object.values(CHAT)];
    const before = replies.length;
    // The same secret run from two platforms: JSON and form-encoded requests.
    const viaWebhook = await send(platforms.webhook(`run leak-probe on env=sec with password=${PASSWORD} apikey=${API_KEY} label=${VISIBLE}`));
    const viaSlack = await send(platforms.slack(`run leak-probe on env=sec with password=${PASSWORD} apikey=${API_KEY} label=${VISIBLE}`));
    const runIds = [viaWebhook, viaSlack].map((a) => /Run (r-[a-z0-9-]+) started/.exec(a.text)?.[1]);
    expect(runIds.every(Boolean), JSON.stringify([viaWebhook, viaSlack])).toBe(true);
    for (const runId of runIds) await waitForObject(store, runKeys.report(runId!), 60_000);
    // Cloud Assistant would deliver outputs to OSS exactly as printed: runs with secrets fetch them instead.
    for (const runId of runIds) expect(JSON.parse((await store.get(runKeys.manifest(runId!)))!.toString()).output).toEqual({ mode: 'fetch' });
    await waitUntil(() => runIds.every((id) => replies.slice(before).some((r) => r.body.includes(id!) && r.body.includes('succeeded'))), 30_000, 'the final replies');
    // status reads the summary back into a reply; the report link is fetched as a person would.
    for (const runId of runIds) await send(platforms.webhook(`status ${runId}`));
    await cloud.fc!.asyncInvocations.idle(30_000);
    await fetchReportsInto(replies, runIds as string[]);
    // Every function's output ends up in the log once its process is gone.
    await cloud.close();
    cloudClosed = true;

    const hits = await secretsEverywhere({ logs, replies, dataDir }, secrets);
    expect(hits.map((h) => `${h.where}: ${h.form} of ${h.secret.slice(0, 12)}…: …${h.context}…`)).toEqual([]);

    // The scan saw what the runs produced: the non-secret value is in the queue's messages, the
    // stored results and the report, and the functions' own log lines (chatops', dispatch's) were captured.
    const visible = [VISIBLE];
    expect((await scanFiles(path.join(dataDir, 'mns'), visible)).hits.length).toBeGreaterThan(0);
    expect((await scanFiles(path.join(dataDir, 'oss'), visible)).hits.some((h) => h.where.includes('fleetrun-runs'))).toBe(true);
    expect(replies.filter((r) => r.path.startsWith('report.html') && r.body.includes(VISIBLE))).toHaveLength(2);
    // The scripts did print the secrets: what reached the report is their redaction.
    expect(replies.filter((r) => r.path.startsWith('report.html') && r.body.includes('password is ***') && r.body.includes('both: ***/***'))).toHaveLength(2);
    expect(logs.filter((l) => l.startsWith('[fc:fleetrun-chatops]') && l.includes('"policy decision"') && l.includes('leak-probe')).length).toBeGreaterThanOrEqual(2);
    expect(logs.filter((l) => l.startsWith('[fc:fleetrun-dispatch]') && l.includes('"policy decision at dispatch"')).length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
