/**
 * Bad input at the chat door. For each platform (Slack, DingTalk, Lark, the signed webhook):
 * - 10,000 generated requests — random bytes, near-valid payloads, forged, stale, future, unsigned
 *   and validly signed ones, inside well-formed and broken FC events — go in-process to chatops'
 *   handleChat behind the FC 3.0 adapter, composed as functions/chatops composes it (the local OSS
 *   for run lookups, the local FC API for dispatch) but with the in-memory replay guard: the OSS
 *   one costs a signed PUT per authentic request, which 40,000 requests cannot afford;
 * - 500 more go to the deployed function's exported handler in-process, replay guard in OSS;
 * - 75 more go through the local FC host's HTTP trigger over loopback, to the function's process.
 * Every request is answered: a 4xx with its reason logged, or — only when it authenticates — a chat
 * answer; never a 5xx or a thrown error; and none of them dispatches a run or reaches ECS. A genuine
 * command at the end proves the harness would have seen a dispatch.
 */
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodecs, MemoryReplayGuard, platformOf } from '../../shared/chat/codecs.ts';
import { REFUSALS, type RefusalCode } from '../../shared/chat/refusals.ts';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { ChatPlatform } from '../../shared/chat/types.ts';
import { dispatcherFor } from '../../shared/chatops/dispatcher-for.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { handleChat } from '../../shared/chatops/handle-chat.ts';
import { chatConfigOf, chatSecrets, parseChatEnv } from '../../shared/config/chat-env.ts';
import { parseFunctionEnv } from '../../shared/config/env.ts';
import { fc3HttpHandler } from '../../shared/runtime/fc3-http.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { parseFleet } from '../../local/ecs/fleet.ts';
import { DEMO_CHAT, PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../../local/local-cloud.ts';
import { fc3Event, materialise, requestSpec, type ChatRequest, type ChatSecrets, type RequestSpec } from '../support/chat-fuzz.ts';
import { waitUntil } from '../../local/cli/harness/pipeline-cloud.ts';
import { stdoutCapture } from '../support/stdout-capture.ts';

const PER_PLATFORM = 10_000;
const DEPLOYED_PER_PLATFORM = 500;
const OVER_HTTP_PER_PLATFORM = 75;
const PLATFORMS: ChatPlatform[] = ['slack', 'dingtalk', 'lark', 'webhook'];
const KEY = { id: 'fuzz-chat-key', secret: 'fuzz-chat-secret-value-0001' };
const SECRETS: ChatSecrets = {
  slack: DEMO_CHAT.FLEETRUN_SLACK_SIGNING_SECRET,
  dingtalk: DEMO_CHAT.FLEETRUN_DINGTALK_APP_SECRET,
  larkEncryptKey: DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY,
  webhook: DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET,
};
const FLEET = `instances:
  - { id: i-bp1fuzz00000001, name: web-1, tags: { env: demo } }
  - { id: i-bp1fuzz00000002, name: web-2, tags: { env: demo } }
`;

type Fc3Result = { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: boolean };
type Fc3Handler = (event: Buffer, context: unknown) => Promise<Fc3Result>;

let cloud: LocalCloud;
let store: AliOssStore;
/** The deployed function's exported handler. */
let handler: Fc3Handler;
/** handleChat behind the FC 3.0 adapter, its log lines caught by the adapter's sink. */
let coreHandler: Fc3Handler;
const cloudLogs: string[] = [];
const fcContext = {
  requestId: 'fuzz-chat',
  credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret },
  function: { name: 'fleetrun-chatops' },
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
};

/**
 * The function writes its log lines to stdout, as on FC; in-process they are caught here. The
 * in-process adapter's sink adds its lines to the same list.
 */
const stdout = stdoutCapture();

beforeAll(async () => {
  cloud = await startLocalCloud({
    fleet: parseFleet(FLEET),
    accessKeys: { [KEY.id]: KEY.secret },
    sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
    timers: false,
    log: (line) => cloudLogs.push(line),
  });
  store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret }, endpoint: cloud.oss.endpoint });
  // The function reads its configuration from the environment at load, as on FC: the host's for it.
  const env = cloud.fc!.functions.get('fleetrun-chatops')!.options.env;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    handler = ((await import('../../functions/chatops/index.ts')) as { handler: Fc3Handler }).handler;
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const fnEnv = parseFunctionEnv(env);
  const chatEnv = parseChatEnv(env);
  const credentials = fcContext.credentials;
  const deps = {
    store,
    codecs: createCodecs(chatConfigOf(chatEnv), new MemoryReplayGuard()),
    dispatcher: dispatcherFor(fnEnv, chatEnv, credentials),
    ...(await loadChatFiles(chatEnv)),
    sealKey: fnEnv.FLEETRUN_SEAL_KEY,
  };
  coreHandler = fc3HttpHandler(
    async (request, context) => handleChat(request, { ...deps, logger: context.logger.withSecrets(chatSecrets(chatEnv)) }),
    { functionName: 'fleetrun-chatops', region: fnEnv.FLEETRUN_REGION, accountId: fnEnv.FLEETRUN_ACCOUNT_ID },
    { maxBodyBytes: chatEnv.FLEETRUN_CHAT_MAX_BODY_BYTES, logSink: (line) => stdout.lines.push(line) },
  );
}, 60_000);

afterAll(async () => {
  stdout.capture(false);
  await cloud?.close();
});

const REFUSAL = /"message":"(chat request refused|request refused before the handler)".*"reason":"[^"]+"/;

/** What each outcome looked like, so the test can tell that parsing past the signature happened. */
interface Tally {
  byStatus: Record<number, number>;
  authenticAnswered: number;
  policyDecisions: number;
}

/** Runs one generated request through an in-process handler and checks its answer. */
async function checkInProcess(target: Fc3Handler, spec: RequestSpec, tally: Tally): Promise<void> {
  const request = materialise(spec, SECRETS);
  const from = stdout.lines.length;
  let result: Fc3Result;
  try {
    result = await target(fc3Event(request, spec.base64, spec.envelope), fcContext);
  } catch (e) {
    throw new Error(`the handler threw: ${(e as Error).stack ?? String(e)}`);
  }
  const lines = stdout.lines.slice(from);
  const status = result.statusCode;
  tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
  tally.policyDecisions += lines.filter((l) => l.includes('"policy decision"')).length;
  expect(status, `${status} ${result.body}\n${lines.join('\n')}`).toBeLessThan(500);
  if (spec.envelope !== 'ok') expect(status).toBe(400);
  else if (!request.authentic) expect(status, result.body).toBeGreaterThanOrEqual(400);
  // The signed webhook refuses a command with a 4xx and a code; every other refusal is before the command.
  const answeredByWebhook = spec.envelope === 'ok' && status !== 413 && platformOf(request.path) === 'webhook';
  const webhookRefusal = answeredByWebhook && status >= 400 ? webhookRefusalOf(status, result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body) : undefined;
  if (request.authentic && (status === 200 || (webhookRefusal !== undefined && !BEFORE_THE_COMMAND.has(webhookRefusal)))) tally.authenticAnswered++;
  // Every refusal says why in the log (a 404 is only "no platform here").
  if (status === 400 || status === 401 || status === 413) expect(lines.some((l) => REFUSAL.test(l)), lines.join('\n')).toBe(true);
  for (const secret of Object.values(SECRETS)) expect(lines.join('\n')).not.toContain(secret);
}

/** The webhook's refusal codes that verify gives: the request never reached the grammar or the policy. */
const BEFORE_THE_COMMAND = new Set<RefusalCode>(['BadRequest', 'BadSignature', 'Expired', 'Replayed', 'CallbackNotAllowed']);

/** A webhook 4xx from handleChat is `{ ok: false, code, message }` with the code's own status; returns the code. */
function webhookRefusalOf(status: number, body: string): RefusalCode {
  const answer = JSON.parse(body) as { ok?: unknown; code?: unknown; message?: unknown };
  expect(answer, body).toMatchObject({ ok: false, code: expect.any(String), message: expect.any(String) });
  const code = answer.code as RefusalCode;
  expect(REFUSALS[code]?.status, body).toBe(status);
  return code;
}

function newTally(): Tally {
  return { byStatus: {}, authenticAnswered: 0, policyDecisions: 0 };
}

describe.each(PLATFORMS)('%s', (platform) => {
  it(`${PER_PLATFORM} generated requests to handleChat behind the FC 3.0 adapter: 4xx with a logged reason or an authentic answer; no 5xx, no throw`, async () => {
    const tally = newTally();
    try {
      await fc.assert(
        fc.asyncProperty(requestSpec(platform), (spec) => checkInProcess(coreHandler, spec, tally)),
        { numRuns: PER_PLATFORM },
      );
    } finally {
      stdout.lines.length = 0;
    }
    // The mix reached every stage: refusals of both kinds, and authentic requests past the signature into the grammar and the policy.
    expect(tally.byStatus[401] ?? 0).toBeGreaterThan(PER_PLATFORM / 10);
    expect(tally.byStatus[400] ?? 0).toBeGreaterThan(PER_PLATFORM / 20);
    expect(tally.authenticAnswered).toBeGreaterThan(PER_PLATFORM / 50);
    expect(tally.policyDecisions).toBeGreaterThan(PER_PLATFORM / 400);
  }, 120_000);

  it(`${DEPLOYED_PER_PLATFORM} generated requests to the deployed function's handler (replay guard in OSS)`, async () => {
    const tally = newTally();
    stdout.capture(true);
    try {
      await fc.assert(
        fc.asyncProperty(requestSpec(platform), (spec) => checkInProcess(handler, spec, tally)),
        { numRuns: DEPLOYED_PER_PLATFORM },
      );
    } finally {
      stdout.capture(false);
      stdout.lines.length = 0;
    }
    expect(tally.authenticAnswered).toBeGreaterThan(0);
  }, 60_000);
});

/** What fetch can send: a URL it can parse, header names and values HTTP allows. */
function overHttp(request: ChatRequest): { url: string; init: RequestInit } {
  const base = cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  let pathname = request.path;
  try {
    pathname = encodeURI(decodeURI(request.path));
  } catch {
    pathname = '/unencodable';
  }
  // One leading slash only: `//host/…` would be read as another host, not a path on the trigger.
  const url = new URL(`/${pathname.replace(/^\/+/, '')}`, base);
  for (const [k, v] of Object.entries(request.query)) url.searchParams.append(k, v);
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([k, v]) => /^[A-Za-z0-9-]+$/.test(k) && /^[\x20-\x7e]*$/.test(v) && !/^(host|content-length)$/i.test(k)));
  const method = request.method.toUpperCase();
  return { url: url.toString(), init: { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body: request.body }) } };
}

describe('over the HTTP trigger', () => {
  it(`${OVER_HTTP_PER_PLATFORM} generated requests per platform through the local FC host: no 5xx, no crash`, async () => {
    const chatops = cloud.fc!.functions.get('fleetrun-chatops')!;
    let refusals = 0;
    for (const platform of PLATFORMS) {
      for (const spec of fc.sample(requestSpec(platform), OVER_HTTP_PER_PLATFORM)) {
        const request = materialise({ ...spec, envelope: 'ok' }, SECRETS);
        const { url, init } = overHttp(request);
        const res = await fetch(url, init);
        const text = await res.text();
        expect(res.status, `${platform} ${init.method} ${url}: ${text}`).toBeLessThan(500);
        if (!request.authentic) expect(res.status, text).toBeGreaterThanOrEqual(400);
        if ([400, 401, 413].includes(res.status) && res.headers.get('content-type')?.includes('json')) refusals++;
      }
    }
    // Bodies over the default 64 KiB limit are refused before any work.
    for (const platform of PLATFORMS) {
      const big = 'x'.repeat(64 * 1024 + 1);
      const res = await fetch(`${cloud.fc!.httpEndpoints.get('fleetrun-chatops')}/${platform}`, { method: 'POST', body: big, headers: webhookHeaders(SECRETS.webhook, big) });
      expect(res.status).toBe(413);
      refusals++;
    }
    expect(chatops.stats.crashes).toBe(0);
    expect(chatops.stats.timeouts).toBe(0);
    // The function's log lines arrive through its stdout pipe: each refusal has one with its reason.
    await waitUntil(() => cloudLogs.filter((l) => l.startsWith('[fc:fleetrun-chatops]') && REFUSAL.test(l)).length >= refusals, 10_000, 'the refusals in the log');
  }, 120_000);
});

describe('after all of it', () => {
  it('nothing was dispatched, no ECS call was made, no run exists — and a genuine command would have been seen', async () => {
    expect(cloud.fc!.asyncInvocations.list()).toEqual([]);
    expect(cloud.ecs.calls).toEqual({});
    const runs: string[] = [];
    for await (const o of store.list('runs/')) runs.push(o.key);
    expect(runs).toEqual([]);

    const body = JSON.stringify({ user: 'demo-ci', text: 'run uptime on env=demo' });
    const genuine: ChatRequest = { path: '/webhook', method: 'POST', headers: webhookHeaders(SECRETS.webhook, body), body: Buffer.from(body), query: {}, authentic: true };
    const result = await handler(fc3Event(genuine, false), fcContext);
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('started');
    await cloud.fc!.asyncInvocations.idle(30_000);
    expect(cloud.fc!.asyncInvocations.list()).toHaveLength(1);
    expect(cloud.ecs.calls.RunCommand).toBe(1);
  }, 60_000);
});
