/**
 * fleetrun's own signed webhook, for chat systems without a codec here, scripts and the local
 * `fleetrun chat` command. It is Slack's scheme with our names: a timestamp header and
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, 5 minutes either way, each signature
 * accepted once. Follow-ups to `callbackUrl` are signed the same way with the same secret, so the
 * receiver verifies them with the code it already has.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../../runtime/http.ts';
import type { ChatCodec, ChatMessage, ReplayGuard, ReplyTarget, Verified } from '../types.ts';
import { REFUSALS, type RefusalCode } from '../refusals.ts';
import { webhookHeaders } from '../sign.ts';
import { ChatSendError, hostOf, postJson, SEND_TIMEOUT_MS, type FetchLike } from './common.ts';
import {
  checkEnvelope,
  checkWindow,
  command,
  firstDelivery,
  firstRefusal,
  handshake,
  jsonBodyAs,
  originAllowed,
  refused,
  replayTtlSeconds,
  requiredHeaders,
  safeEqual,
  timestampMs,
  type Refused,
  type TimestampHeader,
} from './verify-steps.ts';

/** The timestamp may be this far from now, either way. */
export const WEBHOOK_WINDOW_SECONDS = 5 * 60;
const TIMESTAMP: TimestampHeader = { called: 'x-fleetrun-timestamp', unit: 'seconds', windowSeconds: WEBHOOK_WINDOW_SECONDS };
const SIGNATURE_TTL_SECONDS = replayTtlSeconds(WEBHOOK_WINDOW_SECONDS);
// Clients re-sign a retry with a fresh timestamp, so ids are remembered well beyond the window: an
// hour covers any sensible client retry schedule.
const ID_TTL_SECONDS = 60 * 60;

/** Configuration of the webhook codec and sender. */
export interface WebhookOptions {
  secret: string;
  /**
   * The origins (`scheme://host[:port]`) a callbackUrl may have: FLEETRUN_WEBHOOK_CALLBACK_ORIGINS.
   * None by default — a request with a callbackUrl is then refused (CallbackNotAllowed) — because
   * the signed client chooses the URL and fleetrun POSTs to it from inside the deployment: without
   * a list, a client could aim it at anything the functions reach (a metadata service, a control
   * plane on loopback). Matched exactly, so a loopback or private address is reachable only when
   * listed as it is.
   */
  callbackOrigins?: readonly string[];
}

/** How long a callback POST may take: the deadline every reply sender has ({@link SEND_TIMEOUT_MS}). */
export const WEBHOOK_CALLBACK_TIMEOUT_MS = SEND_TIMEOUT_MS;

/** The request body. Unknown keys are refused: a misspelt `callbackURL` silently ignored would lose every reply. */
export const webhookBodySchema = z.strictObject({
  user: z.string().min(1).max(256),
  channel: z.string().min(1).max(256).optional(),
  text: z.string().max(64 * 1024),
  callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The client's delivery id; a repeated id is acknowledged without a second command. */
  id: z.string().min(1).max(256).optional(),
});

/** The JSON the webhook answers with, and POSTs to callbackUrl as follow-ups, when nothing was refused. */
export interface WebhookReply {
  ok: true;
  message: string;
  markdown?: string;
  link?: { title: string; url: string };
}

/** The JSON of a refusal: a stable code (REFUSALS, ../refusals.ts) to act on, and the sentence a person reads. */
export interface WebhookRefusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

export type WebhookAnswer = WebhookReply | WebhookRefusal;

/** Renders a message as webhook JSON: the text, and Markdown and link when present; a refusal as `ok: false` with its code. */
export function renderWebhookMessage(message: ChatMessage): WebhookAnswer {
  if (message.refusal) return { ok: false, code: message.refusal.code, message: message.text };
  return {
    ok: true,
    message: message.text,
    ...(message.markdown !== undefined ? { markdown: message.markdown } : {}),
    ...(message.link ? { link: message.link } : {}),
  };
}

/** A refusal of verify, with the code the webhook answers; the status stays the one verify chose (400 or 401). */
function refusedAs(code: RefusalCode, refusal: Refused): Refused;
function refusedAs(code: RefusalCode, refusal: Refused | undefined): Refused | undefined;
function refusedAs(code: RefusalCode, refusal: Refused | undefined): Refused | undefined {
  return refusal === undefined ? undefined : { ...refusal, code };
}

/**
 * The webhook codec. Refuses (401) missing headers, a timestamp more than 5 minutes from now, a
 * signature that does not match and a signature seen before — all checked before any is acted on,
 * each answered with its documented code (BadSignature, Expired, Replayed) and that code's fixed
 * meaning, the reason only logged; (400) a body that does not fit {@link webhookBodySchema}, and
 * (400, CallbackNotAllowed) a callbackUrl off the listed origins. Every refusal, here or of the command, answers
 * `{ ok: false, code, message }` with the code's status (the codes: ../refusals.ts). deliveryId is `webhook:<id>`, or `webhook:sig:<signature prefix>` when
 * the client sends no id (then only the exact request can be recognised again).
 */
export function createWebhookCodec(options: WebhookOptions, replay: ReplayGuard): ChatCodec {
  const { secret } = options;
  const callbackOrigins = options.callbackOrigins ?? [];
  return {
    platform: 'webhook',
    async verify(req: HttpRequest, now: Date): Promise<Verified> {
      const bad = refusedAs('BadRequest', checkEnvelope(req));
      if (bad) return bad;
      const { values, missing } = requiredHeaders(req, ['x-fleetrun-timestamp', 'x-fleetrun-signature']);
      const [timestamp, signature] = values;
      const sent = timestampMs(timestamp, TIMESTAMP);
      const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(req.body).digest('hex')}`;
      const failed = firstRefusal([
        refusedAs('BadSignature', missing),
        // A timestamp that is not one is a bad signature; one out of its window, Expired.
        sent.kind === 'refused' ? refusedAs('BadSignature', sent) : refusedAs('Expired', checkWindow(sent.value, now, TIMESTAMP.windowSeconds, TIMESTAMP.called)),
        safeEqual(expected, signature) ? undefined : refusedAs('BadSignature', refused(401, 'x-fleetrun-signature does not match: forged, altered, or signed with another secret')),
      ]);
      if (failed) return failed;
      if (!(await replay.firstSeen(`webhook:signature:${signature}`, SIGNATURE_TTL_SECONDS)))
        return refusedAs('Replayed', refused(401, 'replayed request: this signature was already accepted'));

      const parsed = jsonBodyAs(req, webhookBodySchema, 'not a fleetrun webhook body');
      if (parsed.kind === 'refused') return refusedAs('BadRequest', parsed);
      const body = parsed.value;
      if (body.callbackUrl !== undefined && !originAllowed(body.callbackUrl, callbackOrigins)) {
        return refusedAs('CallbackNotAllowed', refused(400, 'callbackUrl is not on an origin FLEETRUN_WEBHOOK_CALLBACK_ORIGINS lists'));
      }

      const deliveryId = body.id !== undefined ? `webhook:${body.id}` : `webhook:sig:${signature.slice(3, 35)}`;
      if (body.id !== undefined && !(await firstDelivery(replay, deliveryId, ID_TTL_SECONDS))) {
        return handshake(jsonResponse(200, { ...renderWebhookMessage({ text: 'Already received: the command runs once.' }), duplicate: true }));
      }
      const replyTo: ReplyTarget = { platform: 'webhook', ...(body.callbackUrl !== undefined ? { callbackUrl: body.callbackUrl } : {}) };
      return command({
        platform: 'webhook',
        user: { id: body.user },
        ...(body.channel !== undefined ? { channel: { id: body.channel } } : {}),
        text: body.text.trim(),
        replyTo,
        deliveryId,
      });
    },
    ack(message: ChatMessage): HttpResponse {
      // A refusal answers with its status, so a client needs no text matching to tell it from success.
      return jsonResponse(message.refusal?.status ?? 200, renderWebhookMessage(message));
    },
    refuse({ status, reason, code }): HttpResponse {
      const refusedWith = code ?? (status === 401 ? 'BadSignature' : 'BadRequest');
      // A request that does not authenticate learns its documented code and the code's fixed
      // meaning, never which check failed or why (the reason is logged): see NOT_AUTHENTICATED.
      const answer: WebhookRefusal = { ok: false, code: refusedWith, message: status === 401 ? REFUSALS[refusedWith].meaning : reason };
      return jsonResponse(status, answer);
    },
  };
}

/**
 * POSTs a follow-up to callbackUrl, signed with the shared secret; without a callbackUrl there is
 * nowhere to send, and nothing is sent. A callbackUrl off the listed origins is refused here too
 * (ChatSendError, nothing sent) — a manifest's reply target may predate the list or come from
 * elsewhere than the codec — and the POST follows no redirect and waits at most
 * {@link WEBHOOK_CALLBACK_TIMEOUT_MS}.
 */
export async function sendWebhook(
  fetchImpl: FetchLike,
  options: WebhookOptions,
  target: Extract<ReplyTarget, { platform: 'webhook' }>,
  message: ChatMessage,
  now: Date,
): Promise<void> {
  if (target.callbackUrl === undefined) return;
  if (!originAllowed(target.callbackUrl, options.callbackOrigins ?? [])) {
    throw new ChatSendError(`webhook callbackUrl (${hostOf(target.callbackUrl)}) is not on an origin FLEETRUN_WEBHOOK_CALLBACK_ORIGINS lists: nothing was sent`);
  }
  const body = JSON.stringify(renderWebhookMessage(message));
  await postJson(fetchImpl, target.callbackUrl, body, { what: 'webhook callbackUrl', headers: webhookHeaders(options.secret, body, now), timeoutMs: WEBHOOK_CALLBACK_TIMEOUT_MS });
}
