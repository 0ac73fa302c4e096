/**
 * Lark / Feishu event callbacks (schema 2.0, `im.message.receive_v1`): the url_verification
 * challenge, the verification token, encrypted payloads with the X-Lark-Signature header, and
 * replies through the IM API with a cached tenant_access_token.
 *
 * Why no SDK: `@larksuiteoapi/node-sdk` loads axios, protobufjs, ws and lodash at import — the
 * whole OpenAPI surface — into a cold start that has 3 seconds to answer. Its EventDispatcher
 * also falls short where it matters here: it hashes a re-serialisation of the parsed body instead
 * of the raw bytes, compares with `===`, checks no timestamp, keeps no replay record, and on a bad
 * request returns undefined with no reason. The two API calls fleetrun makes (token, reply) are two
 * JSON POSTs.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { z } from 'zod';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../../runtime/http.ts';
import type { ChatCodec, ChatMessage, ReplayGuard, ReplyTarget, Verified } from '../types.ts';
import { ChatSendError, firstLine, jsonAs, markdownLink, parseJson, postJson, truncate, type FetchLike } from './common.ts';
import {
  checkEnvelope,
  checkTimestamp,
  checkWindow,
  command,
  firstDelivery,
  firstRefusal,
  handshake,
  header,
  jsonBody,
  parsedAs,
  refusalAnswer,
  refused,
  replayTtlSeconds,
  requiredHeaders,
  safeEqual,
  type TimestampHeader,
} from './verify-steps.ts';

/** The default Open Platform base (Feishu). Lark international is https://open.larksuite.com. */
export const LARK_DEFAULT_API_BASE = 'https://open.feishu.cn';

/** X-Lark-Request-Timestamp may be this far from now: the same 5 minutes as Slack's and our webhook's. */
export const LARK_SIGNATURE_WINDOW_SECONDS = 5 * 60;
/**
 * An event older than this (by header.create_time) is refused, signed or not. Lark retries a
 * delivery after 15 s, 5 min, 1 h and 6 h; the first two are covered, the later ones are refused
 * on purpose: a fleet command should not start an hour after it was typed. It also bounds how long
 * event ids must be remembered, which matters in token-only mode where nothing else is dated.
 */
export const LARK_EVENT_MAX_AGE_SECONDS = 10 * 60;
const EVENT_FUTURE_SECONDS = 5 * 60;
const EVENT_ID_TTL_SECONDS = LARK_EVENT_MAX_AGE_SECONDS + EVENT_FUTURE_SECONDS + 5 * 60;
const SIGNATURE_TTL_SECONDS = replayTtlSeconds(LARK_SIGNATURE_WINDOW_SECONDS);
const TIMESTAMP: TimestampHeader = { called: 'X-Lark-Request-Timestamp', unit: 'seconds', windowSeconds: LARK_SIGNATURE_WINDOW_SECONDS };

/** Configuration of the Lark codec and sender. The codec needs verificationToken or encryptKey; the sender appId and appSecret. */
export interface LarkOptions {
  /** Checked against the token in every payload. Alone, it is weak: it travels inside the body. */
  verificationToken?: string;
  /** Decrypts `{encrypt}` bodies and checks X-Lark-Signature. Recommended: it signs the raw body with a timestamp. */
  encryptKey?: string;
  /** When set, events for another app are refused; also the sender's app. */
  appId?: string;
  appSecret?: string;
  /** Default {@link LARK_DEFAULT_API_BASE}; tests point it at a local server. */
  apiBase?: string;
}

const encryptedSchema = z.object({ encrypt: z.string().min(1) });
const challengeSchema = z.object({ type: z.literal('url_verification'), challenge: z.string().min(1), token: z.string().optional() });
const envelopeSchema = z.object({
  schema: z.literal('2.0'),
  header: z.object({
    event_id: z.string().min(1),
    token: z.string().optional(),
    event_type: z.string().min(1),
    create_time: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()]),
    app_id: z.string().optional(),
    tenant_key: z.string().optional(),
  }),
  event: z.unknown(),
});
const messageEventSchema = z.object({
  sender: z.object({
    sender_id: z.object({ open_id: z.string().min(1), user_id: z.string().optional(), union_id: z.string().optional() }),
    sender_type: z.string().optional(),
  }),
  message: z.object({
    message_id: z.string().min(1),
    chat_id: z.string().min(1),
    chat_type: z.string().optional(),
    message_type: z.string().min(1),
    content: z.string(),
    mentions: z.array(z.object({ key: z.string().min(1), name: z.string().optional() })).optional(),
  }),
});
const textContentSchema = z.object({ text: z.string() });

/** The AES-256 key of an encrypt key: its SHA-256, as Lark documents. */
function aesKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/** iv ‖ ciphertext of an `encrypt` value; undefined unless it has an IV and at least one AES block, whole blocks only. */
function ivAndBlocks(encrypted: string): { iv: Buffer; blocks: Buffer } | undefined {
  const raw = Buffer.from(encrypted, 'base64');
  if (raw.length < 32 || raw.length % 16 !== 0) return undefined;
  return { iv: raw.subarray(0, 16), blocks: raw.subarray(16) };
}

/** Decrypts a Lark `encrypt` value of an authenticated request; undefined when the key is wrong or the data damaged. */
function decrypt(key: Buffer, encrypted: string): string | undefined {
  const parts = ivAndBlocks(encrypted);
  if (parts === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, parts.iv);
    return Buffer.concat([decipher.update(parts.blocks), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The length of a decrypted text's PKCS#7 padding, 0 when the padding is not valid, found without
 * a branch or an early exit on the bytes: how long this takes must not say whether the padding held.
 */
function paddingLength(plain: Buffer): number {
  const n = plain[plain.length - 1] ?? 0;
  // 1 when n is 0 or more than a block.
  let bad = ((n - 1) >> 31) & 1;
  bad |= ((16 - n) >> 31) & 1;
  for (let i = 1; i <= 16; i++) {
    const inPadding = ((i - n - 1) >> 31) & 1;
    const differs = (-((plain[plain.length - i] ?? 0) ^ n) >> 31) & 1;
    bad |= inPadding & differs;
  }
  return n & (bad - 1);
}

/**
 * The challenge of an unsigned request, when it is Lark's encrypted URL-verification request (with
 * the verification token, when one is configured); undefined otherwise, whatever the reason.
 *
 * Lark does not sign that request, so here — and only here — ciphertext nobody authenticated meets
 * the key; CBC has no integrity, and a server that answers bad padding differently from good is a
 * decryption oracle (issue 14). So every step runs whatever the one before found: the AES pass
 * without Node's padding check (which throws, early), the padding checked without branches, the
 * plaintext decoded and parsed, the token compared; only then is the conjunction looked at, and
 * its caller answers every failure alike.
 */
function unsignedChallenge(key: Buffer, body: Buffer, verificationToken: string | undefined): string | undefined {
  // The outer JSON and the base64 are the request's own bytes: nothing here depends on the key.
  const parts = ivAndBlocks(jsonAs(body.toString('utf8'), encryptedSchema)?.encrypt ?? '');
  if (parts === undefined) return undefined;
  const decipher = createDecipheriv('aes-256-cbc', key, parts.iv).setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(parts.blocks), decipher.final()]);
  const padding = paddingLength(padded);
  const payload = parseJson(padded.subarray(0, padded.length - padding).toString('utf8'));
  const challenge = challengeSchema.safeParse(payload.ok ? payload.value : undefined);
  const token = challenge.success ? (challenge.data.token ?? '') : '';
  const tokenHolds = verificationToken === undefined || safeEqual(verificationToken, token);
  return padding > 0 && challenge.success && tokenHolds ? challenge.data.challenge : undefined;
}

/**
 * Removes Lark's mention placeholders (`@_user_1`, `@_all`; `message.mentions[].key` are always of
 * this form) so the command starts with its verb. The placeholder and the space after it go
 * together, so "run @_user_2 df" becomes "run df".
 */
export function stripLarkMentions(text: string): string {
  return text.replace(/(@_user_\d+|@_all)\s*/g, '').trim();
}

const ignored = (): Verified => handshake(jsonResponse(200, {}));

/**
 * The Lark codec.
 *
 * With an encrypt key, bodies must be `{encrypt}`; X-Lark-Signature (with its timestamp ±5 min and
 * nonce) is required on everything except the url_verification challenge, which Lark does not
 * sign — decrypting it with our key is its proof. A signed body is authenticated before it is
 * parsed or decrypted; an unsigned one is opened only as a challenge, in a way that tells nobody
 * why it was not one (unsignedChallenge). A signature seen before is refused (401). With a
 * verification token, it must match (401). Every 401 is answered alike (NOT_AUTHENTICATED). Events older than 10 minutes are refused (401).
 * Events other than text messages from a user are acknowledged with `{}` and no command; so is an
 * event_id already accepted (Lark retries deliveries). deliveryId is `lark:<event_id>`.
 */
export function createLarkCodec(options: LarkOptions, replay: ReplayGuard): ChatCodec {
  const { verificationToken, encryptKey, appId } = options;
  if (!verificationToken && !encryptKey) throw new Error('the Lark codec needs a verificationToken or an encryptKey: without one, anybody could send commands');
  const key = encryptKey ? { text: encryptKey, aes: aesKey(encryptKey) } : undefined;
  return {
    platform: 'lark',
    async verify(req: HttpRequest, now: Date): Promise<Verified> {
      const bad = checkEnvelope(req);
      if (bad) return bad;
      let payload: unknown;
      if (key) {
        const signature = header(req, 'x-lark-signature');
        if (signature === undefined) {
          // Only the URL-verification challenge comes unsigned; every other unsigned body, and every
          // reason one is not that challenge, is refused alike.
          const challenge = unsignedChallenge(key.aes, req.body, verificationToken);
          if (challenge === undefined) return refused(401, 'missing X-Lark-Signature header: only an encrypted URL-verification challenge comes unsigned, and this is none');
          return handshake(jsonResponse(200, { challenge }));
        }
        const { values, missing } = requiredHeaders(req, ['X-Lark-Request-Timestamp', 'X-Lark-Request-Nonce']);
        const [timestamp, nonce] = values;
        // A plain SHA-256 (Lark's scheme, not an HMAC) over the raw body bytes as received.
        const expected = createHash('sha256').update(`${timestamp}${nonce}${key.text}`).update(req.body).digest('hex');
        const failed = firstRefusal([
          missing,
          checkTimestamp(timestamp, TIMESTAMP, now),
          safeEqual(expected, signature) ? undefined : refused(401, 'X-Lark-Signature does not match: forged, altered, or made with another encrypt key'),
        ]);
        if (failed) return failed;
        if (!(await replay.firstSeen(`lark:signature:${signature}`, SIGNATURE_TTL_SECONDS))) return refused(401, 'replayed request: this signature was already accepted');

        // Authenticated: from here on the body is Lark's, and a body Lark signed that does not open is damaged.
        const outer = jsonBody(req);
        if (outer.kind === 'refused') return outer;
        const encrypted = encryptedSchema.safeParse(outer.value);
        if (!encrypted.success) return refused(400, 'an encrypt key is configured but the body is not {encrypt}');
        const plain = decrypt(key.aes, encrypted.data.encrypt);
        if (plain === undefined) return refused(400, 'cannot decrypt the body: wrong encrypt key or damaged data');
        const inner = parseJson(plain);
        if (!inner.ok) return refused(400, 'the decrypted body is not JSON');
        payload = inner.value;
      } else {
        // Token mode: nothing is encrypted or signed, and the token to check is inside the JSON.
        const outer = jsonBody(req);
        if (outer.kind === 'refused') return outer;
        if (encryptedSchema.safeParse(outer.value).success) return refused(400, 'the body is encrypted but no encrypt key is configured');
        payload = outer.value;
      }

      const challenge = challengeSchema.safeParse(payload);
      if (challenge.success) {
        if (verificationToken && !safeEqual(verificationToken, challenge.data.token ?? '')) return refused(401, 'verification token does not match');
        return handshake(jsonResponse(200, { challenge: challenge.data.challenge }));
      }

      const envelope = parsedAs(envelopeSchema, payload, 'not a Lark event of schema 2.0');
      if (envelope.kind === 'refused') return envelope;
      const head = envelope.value.header;
      if (verificationToken && !safeEqual(verificationToken, head.token ?? '')) return refused(401, 'verification token does not match');
      if (appId && head.app_id !== undefined && head.app_id !== appId) return refused(401, 'the event is for another app');
      const stale = checkWindow(Number(head.create_time), now, LARK_EVENT_MAX_AGE_SECONDS, 'header.create_time', EVENT_FUTURE_SECONDS);
      if (stale) return stale;

      if (head.event_type !== 'im.message.receive_v1') return ignored();
      const event = parsedAs(messageEventSchema, envelope.value.event, 'not an im.message.receive_v1 event');
      if (event.kind === 'refused') return event;
      const { sender, message } = event.value;
      // Only people issue commands: a bot's own messages (or another app's) would loop.
      if (sender.sender_type !== undefined && sender.sender_type !== 'user') return ignored();
      if (message.message_type !== 'text') return ignored();
      const content = jsonAs(message.content, textContentSchema);
      if (content === undefined) return refused(400, 'message.content is not {"text": …} JSON');

      const deliveryId = `lark:${head.event_id}`;
      if (!(await firstDelivery(replay, deliveryId, EVENT_ID_TTL_SECONDS))) return ignored();
      const replyTo: ReplyTarget = { platform: 'lark', chatId: message.chat_id, messageId: message.message_id };
      return command({
        platform: 'lark',
        // open_id is always present; user_id only with an extra permission, so it cannot be the key.
        user: { id: sender.sender_id.open_id },
        channel: { id: message.chat_id },
        text: stripLarkMentions(content.text),
        replyTo,
        deliveryId,
      });
    },
    ack(_message: ChatMessage): HttpResponse {
      // Lark shows nothing from the callback answer: `{}` within 3 s stops its retries, and the
      // message itself goes out through the sender.
      return jsonResponse(200, {});
    },
    refuse: refusalAnswer,
  };
}

/** A message for the IM API: `msg_type` and its JSON-encoded `content`. */
export interface LarkOutgoing {
  msg_type: 'text' | 'interactive';
  content: string;
}

// Cards are limited to about 30 KB; 8,000 characters stay below it even at 3 bytes a character.
const CARD_LIMIT = 8000;
const TEXT_LIMIT = 8000;

/** Plain text as a text message; Markdown or a link as a card with a markdown element. */
export function renderLarkMessage(message: ChatMessage): LarkOutgoing {
  if (!message.markdown?.trim() && !message.link) return { msg_type: 'text', content: JSON.stringify({ text: truncate(message.text, TEXT_LIMIT) }) };
  const link = message.link ? `\n${markdownLink(message.link)}` : '';
  const body = message.markdown?.trim() ? message.markdown : message.text;
  const card = {
    config: { wide_screen_mode: true },
    header: { title: { tag: 'plain_text', content: firstLine(message.text, 100) || 'fleetrun' } },
    elements: [{ tag: 'markdown', content: truncate(body, CARD_LIMIT - link.length) + link }],
  };
  return { msg_type: 'interactive', content: JSON.stringify(card) };
}

const tokenAnswerSchema = z.object({ code: z.number(), msg: z.string().optional(), tenant_access_token: z.string().optional(), expire: z.number().optional() });
const apiAnswerSchema = z.object({ code: z.number(), msg: z.string().optional() });
// Lark's code for an invalid or expired access token: fetch a new one and try once more.
const INVALID_TOKEN_CODE = 99991663;
// Renew this long before the token's stated expiry, so a token never expires between check and use.
const TOKEN_MARGIN_MS = 5 * 60 * 1000;

/** Sends replies through the IM API. Create one per process: warm invocations then reuse its token. */
export interface LarkSender {
  send(target: Extract<ReplyTarget, { platform: 'lark' }>, message: ChatMessage): Promise<void>;
}

/** The Lark sender: tenant_access_token from app_id/app_secret, cached until shortly before it expires. */
export function createLarkSender(options: LarkOptions, fetchImpl: FetchLike, now: () => Date = () => new Date()): LarkSender {
  const base = (options.apiBase ?? LARK_DEFAULT_API_BASE).replace(/\/+$/, '');
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    if (!options.appId || !options.appSecret) throw new ChatSendError('Lark replies need lark.appId and lark.appSecret');
    const { text } = await postJson(
      fetchImpl,
      `${base}/open-apis/auth/v3/tenant_access_token/internal`,
      { app_id: options.appId, app_secret: options.appSecret },
      { what: 'Lark tenant_access_token', anyStatus: true },
    );
    const answer = jsonAs(text, tokenAnswerSchema);
    if (answer === undefined) throw new ChatSendError('Lark tenant_access_token: the answer is not {code, tenant_access_token, expire}');
    const { code, msg, tenant_access_token: token, expire } = answer;
    if (code !== 0 || !token) throw new ChatSendError(`Lark tenant_access_token refused: code ${code} ${truncate(msg ?? '', 200, '…')}`);
    cached = { token, renewAt: now().getTime() + Math.max(0, (expire ?? 0) * 1000 - TOKEN_MARGIN_MS) };
    return token;
  }

  async function token(): Promise<string> {
    if (cached && now().getTime() < cached.renewAt) return cached.token;
    // Concurrent sends share one token request instead of each fetching their own.
    pending ??= fetchToken().finally(() => (pending = undefined));
    return pending;
  }

  async function post(url: string, body: unknown): Promise<{ code: number; msg: string; status: number }> {
    const { status, text } = await postJson(fetchImpl, url, body, { what: 'Lark IM API', headers: { authorization: `Bearer ${await token()}` }, anyStatus: true });
    const answer = jsonAs(text, apiAnswerSchema);
    if (answer === undefined) throw new ChatSendError(`Lark IM API answered HTTP ${status} without {code, msg}`);
    return { code: answer.code, msg: answer.msg ?? '', status };
  }

  return {
    async send(target, message) {
      const outgoing = renderLarkMessage(message);
      const [url, body] = target.messageId
        ? [`${base}/open-apis/im/v1/messages/${encodeURIComponent(target.messageId)}/reply`, outgoing]
        : [`${base}/open-apis/im/v1/messages?receive_id_type=chat_id`, { receive_id: target.chatId, ...outgoing }];
      let answer = await post(url, body);
      if (answer.code === INVALID_TOKEN_CODE || answer.status === 401) {
        cached = undefined;
        answer = await post(url, body);
      }
      if (answer.code !== 0) throw new ChatSendError(`Lark IM API refused the reply: code ${answer.code} ${truncate(answer.msg, 200, '…')}`);
    },
  };
}
