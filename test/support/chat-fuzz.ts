/**
 * Generated chat webhook requests for the fault suite: bodies and headers for each platform, with
 * every kind of authentication (valid, missing, forged, wrong secret, stale, from the future,
 * malformed timestamp) and bodies from random bytes to near-valid platform payloads whose command
 * text is grammar soup. A request is generated as a {@link RequestSpec} and signed only when it is
 * sent ({@link materialise}), so valid signatures carry a fresh timestamp.
 *
 * Nothing generated here may legitimately start a run: where an allowed user sends a validly
 * signed message, its text is one the grammar does not read as `run`, or a `run` the catalog or
 * the policy refuses by construction (against the demo catalog and policy, local/demo/).
 */
import fc from 'fast-check';
import { parseChatCommand } from '../../shared/chat/grammar.ts';
import { stripLarkMentions } from '../../shared/chat/platforms/lark.ts';
import { dingtalkSign, larkEncrypt, larkSignature, slackSignature, webhookSignature } from '../../shared/chat/sign.ts';
import type { ChatPlatform } from '../../shared/chat/types.ts';
import { CHAT_THREAD_PORTS } from '../../local/local-cloud.ts';

export type Auth = 'valid' | 'none' | 'wrong-secret' | 'garbage' | 'stale' | 'future' | 'bad-timestamp';

export type BodySpec =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'json'; value: unknown; cut?: number }
  | { kind: 'form'; fields: [string, string][] }
  | { kind: 'lark-encrypted'; inner: unknown; key: 'real' | 'other' };

export interface RequestSpec {
  platform: ChatPlatform;
  auth: Auth;
  body: BodySpec;
  /** Where it is sent: the platform's path, with or without a prefix, or somewhere else. */
  path: string;
  method: string;
  extraHeaders: Record<string, string>;
  /** Header names as FC's gateway passes them (`X-Slack-Signature`) or lower-case. */
  canonicalNames: boolean;
  /** Whether the FC event carries the body base64-encoded. */
  base64: boolean;
  query: Record<string, string>;
  /** Seconds between the signature's timestamp and now, for `valid` (within every window). */
  skewSeconds: number;
  /** The FC event around the request: well formed, or broken the ways an adapter must survive. */
  envelope: 'ok' | 'not-json' | 'no-request-context' | 'bad-base64' | 'body-not-string';
}

export interface ChatSecrets {
  slack: string;
  dingtalk: string;
  larkEncryptKey: string;
  webhook: string;
}

/** The demo policy's users (local/demo/policy.yaml): the only ones who may run anything. */
export const ALLOWED_USERS: Record<ChatPlatform, string> = { slack: 'U0DEMOUSER', dingtalk: 'demo-user', lark: 'ou_demo_user', webhook: 'demo-ci' };
const PRIVILEGED = new Set(['U0DEMOUSER', 'U0DEMOADMIN', 'demo-user', 'ou_demo_user', 'demo-ci']);

const anyText = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\n', '%', '%zz', '\u202e', '__proto__', 'constructor', '{{ACS::InstanceId}}', 'x'.repeat(5000)),
);
const anyValue = fc.oneof(anyText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));

const WORDS = [
  'run', 'status', 'stop', 'jobs', 'help', 'on', 'with', 'timeout', 'concurrency', 'max-errors', 'maxerrors', 'tag', 'tags', 'script',
  'env=demo', 'env=prod', 'role=web', 'env=', '=demo', 'i-bp1demo000000000001', 'i-', 'r-20261123t101500-1a2b3c', 'r-', 'uptime', 'disk-check',
  'service-status', 'sleep-demo', 'secret-probe', 'web-healthcheck', '10', '0', '-1', '86401', '5m', '2h', '50%', '101%', '"quoted value"',
  "'single'", '"unterminated', '$(rm -rf /)', '`id`', ';', '&&', '|', '{{ACS::InstanceId}}', '{{x}}', '\n', '\t', '&lt;', '&amp;', '@_user_1', '@_all',
];
const word = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...WORDS) }, fc.string({ maxLength: 12 }), fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), anyText).map(([k, v]) => `${k}=${v}`));

/** Command text: grammar soup most of the time, anything at all otherwise. */
export const commandText = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.array(word, { maxLength: 14 }), fc.constantFrom(' ', '  ', '\n', ',')).map(([ws, sep]) => ws.join(sep)) },
  { weight: 1, arbitrary: anyText },
);

/** Every way a platform's text may reach the grammar (Slack unescapes, Lark strips mentions, all trim). */
function readsAsRun(text: string): boolean {
  const variants = [text, text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'), stripLarkMentions(text)];
  return variants.some((t) => {
    const parsed = parseChatCommand(t.trim());
    return parsed.ok && parsed.command.kind === 'run';
  });
}

/** A `run` the demo catalog or policy refuses whoever sends it: unknown command, bad or missing values, targets not allowed. */
const refusedRun = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((n) => `run zz-${n} on env=demo`),
  anyText.filter((v) => !/^\/[A-Za-z0-9_./-]*$/u.test(v) && !/["'\s]/.test(v) && v !== '').map((v) => `run disk-check on env=demo with mount=${v}`),
  fc.constant('run service-status on env=demo'),
  fc.stringMatching(/^[a-z]{1,8}$/).map((k) => `run uptime on env=demo with ${k}=1`),
  fc.stringMatching(/^([0-9]{4,6}|[a-z]{1,4})$/).map((v) => `run sleep-demo on env=demo with seconds=${v}`),
  fc.constantFrom('run uptime on env=prod', 'run uptime on role=web', 'run uptime on i-bp1demo000000000001', 'run script "id" on env=demo', 'run secret-probe on env=demo'),
);

const strangerId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), anyText).filter((u) => !PRIVILEGED.has(u) && !PRIVILEGED.has(u.trim()));
const allowedText = fc.oneof(commandText.filter((t) => !readsAsRun(t)), refusedRun);

/** (user, text) of a message: a stranger may say anything; an allowed user nothing that would start a run. */
function sender(platform: ChatPlatform): fc.Arbitrary<{ user: string; text: string }> {
  return fc.oneof(fc.record({ user: strangerId, text: commandText }), fc.record({ user: fc.constant(ALLOWED_USERS[platform]), text: allowedText }));
}

const KEEP = Symbol('keep');
/** Now and then a value of the wrong type instead of the right one. */
const swap = fc.oneof({ weight: 25, arbitrary: fc.constant<typeof KEEP>(KEEP) }, { weight: 1, arbitrary: anyValue });
const orSwapped = (value: unknown, swapped: unknown): unknown => (swapped === KEEP ? value : swapped);
function maybeWrong<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.tuple(arb, swap).map(([v, w]) => orSwapped(v, w));
}

type Alteration = { kind: 'none' } | { kind: 'drop'; index: number } | { kind: 'add'; key: string; value: unknown };
const alteration: fc.Arbitrary<Alteration> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Alteration>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.nat().map((index): Alteration => ({ kind: 'drop', index })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', 'toString', 'callbackURL'), anyValue).map(([key, value]): Alteration => ({ kind: 'add', key, value })) },
);
/** Now and then an object without one of its fields, or with one nobody expects. */
function altered(o: Record<string, unknown>, a: Alteration): Record<string, unknown> {
  if (a.kind === 'none') return o;
  const entries = Object.entries(o);
  if (a.kind === 'drop') return Object.fromEntries(entries.filter((_, i) => i !== a.index % Math.max(1, entries.length)));
  return Object.fromEntries([...entries, [a.key, a.value]]);
}
function alter(arb: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(arb, alteration).map(([o, a]) => altered(o, a));
}

function webhookBody(): fc.Arbitrary<unknown> {
  return alter(
    fc
      .tuple(
        sender('webhook'),
        swap,
        swap,
        fc.record(
          {
            channel: maybeWrong(fc.stringMatching(/^[A-Za-z0-9#_-]{1,20}$/)),
            // The first is on an origin the demo lists (a local chat thread's); the others are refused, or not URLs at all.
            callbackUrl: maybeWrong(fc.constantFrom(`http://127.0.0.1:${CHAT_THREAD_PORTS[0]}/thread`, 'https://example.invalid/cb', 'http://127.0.0.1:1/cb', 'ftp://x', 'not a url')),
            id: maybeWrong(fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/)),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([{ user, text }, wu, wt, rest]) => ({ user: orSwapped(user, wu), text: orSwapped(text, wt), ...rest })),
  );
}

function slackFields(): fc.Arbitrary<[string, string][]> {
  return alter(
    fc
      .tuple(
        sender('slack'),
        fc.record({
          command: fc.constantFrom('/fleetrun', '/fleetrun', '/other', ''),
          channel_id: fc.oneof(fc.constant('C1'), fc.stringMatching(/^C[A-Z0-9]{0,10}$/)),
          response_url: fc.constantFrom('https://hooks.slack.com/commands/T1/1/abc', 'https://hooks.slack.com/commands/T1/1/abc', 'https://evil.example/x', ''),
          trigger_id: fc.stringMatching(/^[0-9.a-f]{1,20}$/),
          user_name: anyText,
        }),
      )
      .map(([{ user, text }, rest]) => ({ text, user_id: user, ...rest })),
  ).map((record) => Object.entries(record).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]));
}

function dingtalkBody(): fc.Arbitrary<unknown> {
  return alter(
    fc
      .tuple(
        sender('dingtalk'),
        swap,
        swap,
        fc.record({
          msgtype: maybeWrong(fc.constantFrom('text', 'text', 'text', 'markdown', 'picture', '')),
          msgId: maybeWrong(fc.stringMatching(/^[A-Za-z0-9+/=]{1,30}$/)),
          senderNick: maybeWrong(anyText),
          conversationId: maybeWrong(fc.constantFrom('cid1', 'cid2', '')),
          sessionWebhook: maybeWrong(fc.constantFrom('https://oapi.dingtalk.com/robot/sendBySession?session=x', 'https://oapi.dingtalk.com/robot/sendBySession?session=x', 'https://evil.example/x', '')),
          sessionWebhookExpiredTime: maybeWrong(fc.integer({ min: -1, max: 2 ** 45 })),
        }),
      )
      .map(([{ user, text }, wu, wt, rest]) => ({ ...rest, text: orSwapped({ content: text }, wt), senderStaffId: orSwapped(user, wu) })),
  );
}

function larkInner(): fc.Arbitrary<unknown> {
  const header = alter(
    fc.record({
      event_id: maybeWrong(fc.stringMatching(/^[a-f0-9]{1,32}$/)),
      event_type: maybeWrong(fc.constantFrom('im.message.receive_v1', 'im.message.receive_v1', 'im.message.receive_v1', 'im.message.receive_v1', 'im.chat.updated_v1', '')),
      // Fresh, stale, future or nonsense; the time is read when the body is built.
      create_time: maybeWrong(fc.constantFrom('now', 'now', 'now', 'now', 'now', 'stale', 'future', 'nonsense')),
      app_id: maybeWrong(fc.constantFrom('cli_fuzz', '')),
    }),
  );
  const message = alter(
    fc.record({
      message_id: maybeWrong(fc.stringMatching(/^om_[a-z0-9]{1,20}$/)),
      chat_id: maybeWrong(fc.stringMatching(/^oc_[a-z0-9]{1,20}$/)),
      message_type: maybeWrong(fc.constantFrom('text', 'text', 'text', 'text', 'image')),
      garbledContent: fc.oneof({ weight: 8, arbitrary: fc.constant<typeof KEEP>(KEEP) }, anyText),
    }),
  );
  const event = fc
    .tuple(sender('lark'), swap, swap, swap, swap, swap, header, message, fc.constantFrom('user', 'user', 'user', 'user', 'app'), alteration)
    .map(([{ user, text }, w1, w2, w3, w4, w5, h, m, senderType, a]) => {
      const { garbledContent, ...msg } = m;
      const content = garbledContent === KEEP || garbledContent === undefined ? JSON.stringify({ text }) : garbledContent;
      return altered(
        {
          schema: orSwapped('2.0', w1),
          header: orSwapped(h, w2),
          event: { sender: orSwapped({ sender_id: orSwapped({ open_id: user }, w4), sender_type: senderType }, w3), message: orSwapped({ ...msg, content }, w5) },
        },
        a,
      );
    });
  const challenge = fc.record({ type: maybeWrong(fc.constant('url_verification')), challenge: maybeWrong(anyText), token: maybeWrong(anyText) }, { requiredKeys: [] });
  return fc.oneof({ weight: 10, arbitrary: event }, { weight: 1, arbitrary: challenge }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

function platformBody(platform: ChatPlatform): fc.Arbitrary<BodySpec> {
  const json = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<BodySpec> =>
    fc.tuple(arb, fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, fc.nat())).map(([value, cut]) => (cut === undefined ? { kind: 'json', value } : { kind: 'json', value, cut }));
  const structured: fc.Arbitrary<BodySpec> =
    platform === 'slack'
      ? slackFields().map((fields) => ({ kind: 'form', fields }))
      : platform === 'dingtalk'
        ? json(dingtalkBody())
        : platform === 'webhook'
          ? json(webhookBody())
          : fc.oneof(
              { weight: 8, arbitrary: fc.tuple(larkInner(), fc.constantFrom<'real' | 'other'>('real', 'real', 'real', 'real', 'real', 'other')).map(([inner, key]): BodySpec => ({ kind: 'lark-encrypted', inner, key })) },
              { weight: 1, arbitrary: json(larkInner()) },
              { weight: 1, arbitrary: json(fc.record({ encrypt: anyValue })) },
            );
  return fc.oneof(
    { weight: 8, arbitrary: structured },
    { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 3 })) },
    { weight: 1, arbitrary: anyText.map((text): BodySpec => ({ kind: 'text', text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })) },
  );
}

const headerName = fc.oneof(
  fc.constantFrom('x-slack-signature', 'x-slack-request-timestamp', 'timestamp', 'sign', 'x-lark-signature', 'x-lark-request-timestamp', 'x-lark-request-nonce', 'x-fleetrun-signature', 'x-fleetrun-timestamp', 'x-slack-retry-num', 'content-type', 'content-length', 'host', 'x-forwarded-for'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
/** Header values a real HTTP request can carry (visible ASCII and spaces); the in-process path adds any text. */
const sendableHeaderValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,60}[\x21-\x7e])?$/);

export function requestSpec(platform: ChatPlatform): fc.Arbitrary<RequestSpec> {
  return fc.record({
    platform: fc.constant(platform),
    auth: fc.constantFrom<Auth>('valid', 'valid', 'valid', 'valid', 'none', 'wrong-secret', 'garbage', 'stale', 'future', 'bad-timestamp'),
    body: platformBody(platform),
    path: fc.oneof(
      { weight: 24, arbitrary: fc.constant(`/${platform}`) },
      { weight: 1, arbitrary: fc.constantFrom(`/chat/${platform}/`, `/${platform}/`, `/${platform.toUpperCase()}`, '/', '/slack/extra', `/${platform}%00`) },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `/${s}`) },
    ),
    method: fc.oneof({ weight: 15, arbitrary: fc.constant('POST') }, fc.constantFrom('GET', 'PUT', 'post', 'DELETE', 'OPTIONS')),
    extraHeaders: fc.dictionary(headerName, fc.oneof({ weight: 4, arbitrary: sendableHeaderValue }, anyText), { maxKeys: 3 }),
    canonicalNames: fc.boolean(),
    base64: fc.boolean(),
    query: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 2 }),
    skewSeconds: fc.integer({ min: -60, max: 60 }),
    envelope: fc.oneof({ weight: 40, arbitrary: fc.constant('ok' as const) }, fc.constantFrom('not-json' as const, 'no-request-context' as const, 'bad-base64' as const, 'body-not-string' as const)),
  });
}

export interface ChatRequest {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  query: Record<string, string>;
  /**
   * Whether the request proves it comes from the platform: then any answer but a 5xx is fine (a
   * message, a challenge, a 4xx for a bad body). Anything else must be refused with a 4xx.
   */
  authentic: boolean;
}

function bodyBytes(body: BodySpec, secrets: ChatSecrets): Buffer {
  switch (body.kind) {
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'text':
      return Buffer.from(body.text, 'utf8');
    case 'json': {
      const text = JSON.stringify(withTimes(body.value)) ?? 'null';
      return Buffer.from(body.cut === undefined ? text : text.slice(0, body.cut % (text.length + 1)), 'utf8');
    }
    case 'form':
      return Buffer.from(new URLSearchParams(body.fields).toString(), 'utf8');
    case 'lark-encrypted': {
      const key = body.key === 'real' ? secrets.larkEncryptKey : `${secrets.larkEncryptKey}-other`;
      return Buffer.from(JSON.stringify({ encrypt: larkEncrypt(key, JSON.stringify(withTimes(body.inner)) ?? 'null') }), 'utf8');
    }
  }
}

const nowMs = () => Date.now();

/** Lark's create_time placeholders become times relative to now, when the body is built. */
function withTimes(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withTimes);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'create_time' && typeof v === 'string' && ['now', 'stale', 'future', 'nonsense'].includes(v)) {
      out[k] = v === 'now' ? String(nowMs()) : v === 'stale' ? String(nowMs() - 3_600_000) : v === 'future' ? String(nowMs() + 3_600_000) : '12abc';
    } else out[k] = withTimes(v);
  }
  return out;
}

const canonical = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);

/** Signs (or forges) a generated request now. */
export function materialise(spec: RequestSpec, secrets: ChatSecrets): ChatRequest {
  const body = bodyBytes(spec.body, secrets);
  const now = Date.now();
  const shift = spec.auth === 'stale' ? -2 * 3_600_000 : spec.auth === 'future' ? 2 * 3_600_000 : spec.skewSeconds * 1000;
  const ms = now + shift;
  const seconds = Math.floor(ms / 1000);
  const badTime = spec.auth === 'bad-timestamp' ? `${seconds}x` : undefined;
  const secretOf = { slack: secrets.slack, dingtalk: secrets.dingtalk, lark: secrets.larkEncryptKey, webhook: secrets.webhook }[spec.platform];
  const secret = spec.auth === 'wrong-secret' ? `${secretOf}-but-not-quite` : secretOf;
  const garbage = spec.auth === 'garbage';
  const headers: Record<string, string> = { ...spec.extraHeaders };
  const set = (name: string, value: string) => void (headers[name] = value);
  switch (spec.platform) {
    case 'slack':
      set('content-type', 'application/x-www-form-urlencoded');
      set('x-slack-request-timestamp', badTime ?? String(seconds));
      if (spec.auth !== 'none') set('x-slack-signature', garbage ? 'v0=deadbeef' : slackSignature(secret, seconds, body));
      break;
    case 'dingtalk':
      set('content-type', 'application/json');
      set('timestamp', badTime ?? String(ms));
      if (spec.auth !== 'none') set('sign', garbage ? 'c2lnbg==' : dingtalkSign(secret, ms));
      break;
    case 'lark': {
      set('content-type', 'application/json');
      const nonce = `n${seconds % 9973}`;
      set('x-lark-request-timestamp', badTime ?? String(seconds));
      set('x-lark-request-nonce', nonce);
      if (spec.auth !== 'none') set('x-lark-signature', garbage ? '00'.repeat(32) : larkSignature(secret, seconds, nonce, body));
      break;
    }
    case 'webhook':
      set('content-type', 'application/json');
      set('x-fleetrun-timestamp', badTime ?? String(seconds));
      if (spec.auth !== 'none') set('x-fleetrun-signature', garbage ? 'v1=00' : webhookSignature(secret, seconds, body));
      break;
  }
  const named = spec.canonicalNames ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [canonical(k), v])) : headers;
  // An unsigned Lark body encrypted with the real key may be the URL-verification challenge, which Lark does not sign.
  const authentic = spec.auth === 'valid' || (spec.platform === 'lark' && spec.auth === 'none' && spec.body.kind === 'lark-encrypted' && spec.body.key === 'real');
  return { path: spec.path, method: spec.method, headers: named, body, query: spec.query, authentic };
}

/** The FC 3.0 HTTP trigger event FC would build for the request (reference §5.3), or a broken one. */
export function fc3Event(request: ChatRequest, base64: boolean, envelope: RequestSpec['envelope'] = 'ok'): Buffer {
  const event: Record<string, unknown> = {
    version: 'v1',
    rawPath: request.path,
    body: base64 ? request.body.toString('base64') : request.body.toString('utf8'),
    isBase64Encoded: base64,
    headers: request.headers,
    queryParameters: request.query,
    requestContext: { accountId: '1234567890123456', domainName: 'fuzz.local', requestId: 'fuzz', http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fuzz' } },
  };
  switch (envelope) {
    case 'not-json':
      return Buffer.concat([Buffer.from('{"rawPath":'), request.body]);
    case 'no-request-context':
      delete event.requestContext;
      break;
    case 'bad-base64':
      event.isBase64Encoded = true;
      event.body = `${request.body.toString('base64')}*%`;
      break;
    case 'body-not-string':
      event.body = { data: [...request.body.subarray(0, 8)] };
      break;
  }
  return Buffer.from(JSON.stringify(event));
}
