/**
 * DingTalk enterprise-internal robots in outgoing (HTTP callback) mode: `timestamp`/`sign` headers,
 * a markdown answer in the HTTP response, and follow-ups to the conversation's `sessionWebhook`.
 *
 * Why no SDK: `dingtalk-stream` is DingTalk's SDK for Stream mode, a long-lived WebSocket that a
 * Function Compute instance (started per request, frozen between requests) cannot hold open; it
 * does not verify outgoing-mode HTTP callbacks at all. The check is one HMAC over the timestamp,
 * written here with node:crypto's timingSafeEqual.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../../runtime/http.ts';
import type { ChatCodec, ChatMessage, ReplayGuard, ReplyTarget, Verified } from '../types.ts';
import { ChatSendError, firstLine, jsonAs, markdownLink, postJson, truncate, type FetchLike } from './common.ts';
import {
  checkEnvelope,
  checkTimestamp,
  command,
  firstDelivery,
  firstRefusal,
  handshake,
  jsonBodyAs,
  originAllowed,
  refusalAnswer,
  refused,
  replayTtlSeconds,
  requiredHeaders,
  safeEqual,
  withName,
  type TimestampHeader,
} from './verify-steps.ts';

/**
 * ±1 hour: DingTalk documents that the timestamp may differ from the call time by up to one hour,
 * so a narrower window could refuse genuine callbacks. It costs no replay protection here, because
 * every sign is accepted once only (below), for longer than the window.
 */
export const DINGTALK_WINDOW_SECONDS = 60 * 60;
// The header is called just `timestamp`, so reasons call it the timestamp header.
const TIMESTAMP: TimestampHeader = { called: 'timestamp header', unit: 'milliseconds', windowSeconds: DINGTALK_WINDOW_SECONDS };
// The sign covers only the timestamp, not the body: a captured sign could carry any other body
// within the window. So a sign is accepted once, and remembered for the whole ±1 h window.
const SIGN_TTL_SECONDS = replayTtlSeconds(DINGTALK_WINDOW_SECONDS);
const MESSAGE_TTL_SECONDS = replayTtlSeconds(DINGTALK_WINDOW_SECONDS);

/** Where follow-ups may be POSTed by default: DingTalk's own API hosts. */
export const DINGTALK_SESSION_WEBHOOK_ORIGINS: readonly string[] = ['https://oapi.dingtalk.com', 'https://api.dingtalk.com'];

/** Configuration of the DingTalk codec. */
export interface DingtalkOptions {
  appSecret: string;
  /**
   * Origins `sessionWebhook` may have (default {@link DINGTALK_SESSION_WEBHOOK_ORIGINS}). The body is
   * not signed, so without this a forged body could send run results to any URL.
   */
  sessionWebhookOrigins?: readonly string[];
}

const callbackSchema = z
  .object({
    msgtype: z.string().min(1),
    text: z.object({ content: z.string() }).optional(),
    msgId: z.string().min(1),
    senderStaffId: z.string().min(1).optional(),
    senderId: z.string().min(1).optional(),
    senderNick: z.string().optional(),
    conversationId: z.string().min(1),
    conversationType: z.string().optional(),
    conversationTitle: z.string().optional(),
    sessionWebhook: z.string().min(1),
    sessionWebhookExpiredTime: z.number().int().positive().optional(),
    chatbotUserId: z.string().optional(),
  })
  .refine((b) => b.senderStaffId !== undefined || b.senderId !== undefined, { message: 'senderStaffId or senderId is required', path: ['senderId'] });

/** A DingTalk markdown message, as the callback answer and sessionWebhook take it. */
export interface DingtalkMarkdown {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}

// DingTalk does not document a markdown size we could rely on; 5,000 characters keeps a result
// summary whole and stays clear of the limits other robots hit (pain point 13). Cut visibly.
const TEXT_LIMIT = 5000;
const TITLE_LIMIT = 64;

/** Renders a message as DingTalk markdown. Plain text gets hard line breaks, which DingTalk otherwise joins. */
export function renderDingtalkMessage(message: ChatMessage): DingtalkMarkdown {
  const body = message.markdown?.trim() ? message.markdown : message.text.replace(/\n/g, '  \n');
  const link = message.link ? `\n\n${markdownLink(message.link)}` : '';
  return {
    msgtype: 'markdown',
    // The title is what the notification and the conversation list show.
    markdown: { title: firstLine(message.text, TITLE_LIMIT) || 'fleetrun', text: truncate(body, TEXT_LIMIT - link.length, '\n\n… (truncated)') + link },
  };
}

/**
 * The DingTalk codec.
 *
 * Refuses (401) missing headers, a timestamp more than 1 hour from now, a sign that does not match,
 * and a sign seen before — all checked before any is acted on, and all answered alike
 * (NOT_AUTHENTICATED; the reason is logged). Refuses (400) a body that is not a robot callback or whose sessionWebhook
 * is not DingTalk's. A msgId already accepted is answered "already received" with no command.
 * deliveryId is `dingtalk:<msgId>`.
 */
export function createDingtalkCodec(options: DingtalkOptions, replay: ReplayGuard): ChatCodec {
  const { appSecret } = options;
  const origins = options.sessionWebhookOrigins ?? DINGTALK_SESSION_WEBHOOK_ORIGINS;
  return {
    platform: 'dingtalk',
    async verify(req: HttpRequest, now: Date): Promise<Verified> {
      const bad = checkEnvelope(req);
      if (bad) return bad;
      const { values, missing } = requiredHeaders(req, ['timestamp', 'sign']);
      const [timestamp, rawSign] = values;
      const sign = decodeSign(rawSign);
      const expected = createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
      const failed = firstRefusal([
        missing,
        checkTimestamp(timestamp, TIMESTAMP, now),
        safeEqual(expected, sign) ? undefined : refused(401, 'sign does not match: forged, or signed with another app secret'),
      ]);
      if (failed) return failed;
      if (!(await replay.firstSeen(`dingtalk:sign:${sign}`, SIGN_TTL_SECONDS))) return refused(401, 'replayed request: this sign was already accepted');

      const parsed = jsonBodyAs(req, callbackSchema, 'not a DingTalk robot callback');
      if (parsed.kind === 'refused') return parsed;
      const body = parsed.value;
      if (!originAllowed(body.sessionWebhook, origins)) return refused(400, 'sessionWebhook is not on an allowed DingTalk origin');

      if (body.msgtype !== 'text' || body.text === undefined) {
        return handshake(jsonResponse(200, renderDingtalkMessage({ text: 'fleetrun understands text messages only: send the command as text.' })));
      }
      const deliveryId = `dingtalk:${body.msgId}`;
      if (!(await firstDelivery(replay, deliveryId, MESSAGE_TTL_SECONDS))) {
        return handshake(jsonResponse(200, renderDingtalkMessage({ text: 'Already received: the command runs once; results follow here.' })));
      }

      const replyTo: ReplyTarget = {
        platform: 'dingtalk',
        sessionWebhook: body.sessionWebhook,
        conversationId: body.conversationId,
        ...(body.sessionWebhookExpiredTime !== undefined ? { expiresAt: body.sessionWebhookExpiredTime } : {}),
      };
      return command({
        platform: 'dingtalk',
        // The staff id is the organisation's stable employee id; senderId is per robot, for outsiders.
        user: withName(body.senderStaffId ?? body.senderId ?? '', body.senderNick),
        channel: withName(body.conversationId, body.conversationTitle),
        // In groups DingTalk removes the robot's @mention but leaves the space after it.
        text: body.text.content.trim(),
        replyTo,
        deliveryId,
      });
    },
    ack(message: ChatMessage): HttpResponse {
      return jsonResponse(200, renderDingtalkMessage(message));
    },
    refuse: refusalAnswer,
  };
}

/** Some gateways pass the sign URL-encoded, as DingTalk's own send API wants it; base64 never contains `%`. */
function decodeSign(sign: string): string {
  if (!sign.includes('%')) return sign;
  try {
    return decodeURIComponent(sign);
  } catch {
    return sign;
  }
}

/**
 * Posts a follow-up to the conversation's sessionWebhook. Refuses, before any request, when the
 * webhook has expired: DingTalk would drop the message, and a reply after expiry needs the robot's
 * OpenAPI (an access token), which fleetrun does not use.
 */
export async function sendDingtalk(
  fetchImpl: FetchLike,
  target: Extract<ReplyTarget, { platform: 'dingtalk' }>,
  message: ChatMessage,
  now: Date,
): Promise<void> {
  if (target.expiresAt !== undefined && now.getTime() >= target.expiresAt) {
    throw new ChatSendError(
      `the DingTalk sessionWebhook expired at ${new Date(target.expiresAt).toISOString()} (now ${now.toISOString()}): the reply was not sent; the results are in the run's report`,
    );
  }
  const { text } = await postJson(fetchImpl, target.sessionWebhook, renderDingtalkMessage(message), { what: 'DingTalk sessionWebhook' });
  // DingTalk answers HTTP 200 with errcode ≠ 0 for refusals (expired session, rate limit, bad body).
  const answer = jsonAs(text, z.object({ errcode: z.number(), errmsg: z.string().optional() }));
  if (answer === undefined) throw new ChatSendError('DingTalk sessionWebhook answered something that is not {errcode, errmsg}');
  if (answer.errcode !== 0) throw new ChatSendError(`DingTalk sessionWebhook refused the message: errcode ${answer.errcode} ${truncate(answer.errmsg ?? '', 200, '…')}`);
}
