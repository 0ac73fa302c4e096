/**
 * Slack slash commands: v0 request signatures, the 3-second acknowledgement, and follow-ups to
 * `response_url`.
 *
 * Why no SDK: `@slack/bolt` 5 wants to own the HTTP server (Express receiver, or AWS Lambda's event
 * shape) and pulls Express, OAuth and Socket Mode into a cold start that has 3 seconds for its
 * answer; `@slack/web-api` 8 calls the Web API with a bot token, which slash-command follow-ups do
 * not use (`response_url` is a plain JSON POST). The v0 check is one HMAC, written here with
 * node:crypto's timingSafeEqual, plus what Bolt's check lacks: a replay guard.
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../../runtime/http.ts';
import type { ChatCodec, ChatMessage, ReplayGuard, ReplyTarget, Verified } from '../types.ts';
import { ChatSendError, firstLine, jsonAs, postJson, truncate, type FetchLike } from './common.ts';
import {
  checkEnvelope,
  checkTimestamp,
  command,
  firstDelivery,
  firstRefusal,
  handshake,
  header,
  originAllowed,
  parsedAs,
  refusalAnswer,
  refused,
  replayTtlSeconds,
  requiredHeaders,
  safeEqual,
  withName,
  type TimestampHeader,
} from './verify-steps.ts';

/** Slack's own advice: refuse a request whose timestamp is more than five minutes from now. */
export const SLACK_WINDOW_SECONDS = 5 * 60;
const TIMESTAMP: TimestampHeader = { called: 'X-Slack-Request-Timestamp', unit: 'seconds', windowSeconds: SLACK_WINDOW_SECONDS };
const SIGNATURE_TTL_SECONDS = replayTtlSeconds(SLACK_WINDOW_SECONDS);
// response_url is good for 30 minutes; no retry of a command can be useful after that.
const DELIVERY_TTL_SECONDS = 30 * 60;

/** Where follow-ups may be POSTed by default; `response_url` is always on this host. */
export const SLACK_RESPONSE_URL_ORIGINS: readonly string[] = ['https://hooks.slack.com'];

/** Configuration of the Slack codec. */
export interface SlackOptions {
  signingSecret: string;
  /** Origins `response_url` may have (default {@link SLACK_RESPONSE_URL_ORIGINS}); the local chat CLI adds its loopback server. */
  responseUrlOrigins?: readonly string[];
}

const slashCommandSchema = z.object({
  command: z.string().min(1),
  text: z.string().default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  response_url: z.string().min(1),
  trigger_id: z.string().min(1).optional(),
  team_id: z.string().optional(),
});

/** A Slack message body as `response_url` and the slash-command answer take it. */
export interface SlackMessage {
  response_type: 'in_channel' | 'ephemeral';
  text: string;
  blocks?: Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } }>;
}

// A section's text may hold 3,000 characters; four of them keep a message readable and far from
// Slack's limits (pain point 13: oversized messages are cut silently, so we cut visibly).
const SECTION_LIMIT = 3000;
const MAX_SECTIONS = 4;
const TEXT_LIMIT = 3000;

/** Slack requires &, < and > escaped in message text; everything else is literal. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Markdown → Slack mrkdwn: links, bold and headings differ; code is left alone (Slack renders
 * backticks itself, and converting inside code would corrupt it).
 */
export function toSlackMrkdwn(markdown: string): string {
  return escapeSlack(markdown)
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, (_m, title: string, url: string) => `<${url}|${title.replace(/\|/g, '¦')}>`)
            .replace(/^#{1,6}\s+(.+)$/gm, '*$1*')
            .replace(/\*\*(.+?)\*\*/g, '*$1*')
            .replace(/__(.+?)__/g, '_$1_'),
    )
    .join('');
}

/** Splits text into pieces of at most `limit` characters, at line ends where possible. */
function chunks(text: string, limit: number): string[] {
  const out: string[] = [];
  let current = '';
  const flush = (): void => {
    if (current) out.push(current);
    current = '';
  };
  for (const line of text.split('\n')) {
    let rest = line;
    while (rest.length > limit) {
      flush();
      out.push(rest.slice(0, limit));
      rest = rest.slice(limit);
    }
    if (current && current.length + 1 + rest.length > limit) flush();
    current = current ? `${current}\n${rest}` : rest;
  }
  flush();
  return out;
}

/** Renders a message for Slack: text always (notifications use it), mrkdwn sections when there is Markdown. */
export function renderSlackMessage(message: ChatMessage, responseType: SlackMessage['response_type'] = 'in_channel'): SlackMessage {
  const link = message.link ? `<${escapeSlack(message.link.url)}|${escapeSlack(message.link.title).replace(/\|/g, '¦')}>` : '';
  const text = [escapeSlack(truncate(message.text, TEXT_LIMIT)), link].filter(Boolean).join('\n');
  if (message.markdown === undefined || message.markdown.trim() === '') return { response_type: responseType, text };
  const body = truncate(toSlackMrkdwn(message.markdown), SECTION_LIMIT * MAX_SECTIONS - 200, '\n… (truncated — the full text is in the report)');
  const sections = chunks([body, link].filter(Boolean).join('\n'), SECTION_LIMIT).slice(0, MAX_SECTIONS + 1);
  return {
    response_type: responseType,
    text: escapeSlack(firstLine(message.text, 300)),
    blocks: sections.map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: s } })),
  };
}

/** Slack sends &, < and > in a command's text as entities; the command grammar wants the characters. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * The Slack codec.
 *
 * Refuses (401) a missing or malformed signature header, a timestamp more than 5 minutes from now
 * in either direction, a signature that does not match, and a signature seen before (a replay) —
 * all checked before any is acted on, and all answered alike (NOT_AUTHENTICATED; the reason is
 * logged). Refuses (400) a body that is not a slash command, or whose response_url is not Slack's.
 *
 * Retries: Slack may send a request again (with `X-Slack-Retry-Num`, freshly signed) when the first
 * answer was slow. The deliveryId is `slack:<trigger_id>` — the same in every retry, since the
 * payload is repeated — and a delivery already accepted by this ReplayGuard is answered with an
 * ephemeral "already received" and no command, so it cannot run twice. A guard that is per
 * instance (MemoryReplayGuard) cannot see a retry landing on another instance: the caller must
 * also dedupe on deliveryId durably (e.g. derive the run's ClientToken from it).
 */
export function createSlackCodec(options: SlackOptions, replay: ReplayGuard): ChatCodec {
  const { signingSecret } = options;
  const origins = options.responseUrlOrigins ?? SLACK_RESPONSE_URL_ORIGINS;
  return {
    platform: 'slack',
    async verify(req: HttpRequest, now: Date): Promise<Verified> {
      const bad = checkEnvelope(req);
      if (bad) return bad;
      const { values, missing } = requiredHeaders(req, ['X-Slack-Signature', 'X-Slack-Request-Timestamp']);
      const [signature, timestamp] = values;
      // Signed over the timestamp string exactly as sent and the raw bytes, never a re-encoding.
      const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(req.body).digest('hex')}`;
      const failed = firstRefusal([
        missing,
        checkTimestamp(timestamp, TIMESTAMP, now),
        safeEqual(expected, signature) ? undefined : refused(401, 'X-Slack-Signature does not match: forged, altered, or signed with another secret'),
      ]);
      if (failed) return failed;
      // Recorded only after the signature holds, so forged requests cannot fill the guard or block real ones.
      if (!(await replay.firstSeen(`slack:signature:${signature}`, SIGNATURE_TTL_SECONDS))) {
        return refused(401, 'replayed request: this exact signed request was already accepted');
      }

      const parsed = parsedAs(slashCommandSchema, Object.fromEntries(new URLSearchParams(req.body.toString('utf8'))), 'not a Slack slash command');
      if (parsed.kind === 'refused') return parsed;
      const form = parsed.value;
      if (!originAllowed(form.response_url, origins)) return refused(400, 'response_url is not on an allowed Slack origin');

      const deliveryId = `slack:${form.trigger_id ?? createHash('sha256').update(req.body).digest('hex').slice(0, 40)}`;
      if (!(await firstDelivery(replay, deliveryId, DELIVERY_TTL_SECONDS))) {
        const retry = header(req, 'x-slack-retry-num');
        return handshake(
          jsonResponse(
            200,
            renderSlackMessage(
              { text: `Already received${retry ? ` (Slack retry ${retry.slice(0, 3)})` : ''}: the command runs once; results follow here.` },
              'ephemeral',
            ),
          ),
        );
      }

      const replyTo: ReplyTarget = { platform: 'slack', responseUrl: form.response_url, channelId: form.channel_id };
      return command({
        platform: 'slack',
        user: withName(form.user_id, form.user_name),
        channel: withName(form.channel_id, form.channel_name),
        text: unescapeSlack(form.text).trim(),
        replyTo,
        deliveryId,
      });
    },
    ack(message: ChatMessage): HttpResponse {
      // in_channel: a fleet command is everyone's business in the channel (and it echoes who asked).
      return jsonResponse(200, renderSlackMessage(message, 'in_channel'));
    },
    refuse: refusalAnswer,
  };
}

/**
 * Posts a follow-up to a slash command's response_url. Slack accepts up to 5 posts within 30
 * minutes of the command; after that it answers 404 and this throws ChatSendError.
 */
export async function sendSlack(fetchImpl: FetchLike, target: Extract<ReplyTarget, { platform: 'slack' }>, message: ChatMessage): Promise<void> {
  const body = { ...renderSlackMessage(message, 'in_channel'), replace_original: false };
  const { text } = await postJson(fetchImpl, target.responseUrl, body, { what: 'Slack response_url' });
  // response_url answers "ok" in plain text; anything JSON with ok:false is a refusal.
  const answer = jsonAs(text, z.object({ ok: z.boolean().optional(), error: z.string().optional() }));
  if (answer?.ok === false) throw new ChatSendError(`Slack response_url refused the message: ${answer.error ?? 'no reason given'}`);
}
