/**
 * The shapes every chat platform is reduced to. A codec turns one platform's HTTP request into an
 * {@link InboundCommand} (or a refusal), and a {@link ChatSender} carries replies back, so the rest
 * of fleetrun never sees a platform's wire format.
 */
import type { HttpRequest, HttpResponse } from '../runtime/http.ts';
import type { Refusal, RefusalCode } from './refusals.ts';

/** The platforms fleetrun answers; also the last path segment each one is served at. */
export type ChatPlatform = 'slack' | 'dingtalk' | 'lark' | 'webhook';

/** Where follow-up messages for this conversation go; serialisable (it is stored in the run's manifest). */
export type ReplyTarget =
  | { platform: 'slack'; responseUrl: string; channelId?: string }
  | { platform: 'dingtalk'; sessionWebhook: string; expiresAt?: number; conversationId?: string }
  | { platform: 'lark'; chatId: string; messageId?: string }
  | { platform: 'webhook'; callbackUrl?: string };

/** A verified request from a person: who asked, where, what, and where to answer. */
export interface InboundCommand {
  platform: ChatPlatform;
  user: { id: string; name?: string };
  channel?: { id: string; name?: string };
  /** The command text with platform decoration (slash command name, @mentions) removed. */
  text: string;
  replyTo: ReplyTarget;
  /**
   * Platform delivery id for dedupe (Lark event_id, DingTalk msgId…), prefixed with the platform
   * (`lark:<event_id>`) so one platform's ids can never collide with, or be used to block, another's.
   */
  deliveryId: string;
}

/** The outcome of {@link ChatCodec.verify}. */
export type Verified =
  | { kind: 'command'; command: InboundCommand }
  /** Answer with `response` and do nothing else: a Lark url_verification challenge, a repeated delivery, an ignored event. */
  | { kind: 'handshake'; response: HttpResponse }
  /** `reason` is safe to log: it never contains a secret. `code` is what the signed webhook answers with (other platforms leave it out). */
  | { kind: 'refused'; status: 400 | 401; reason: string; code?: RefusalCode };

/** A message to a person: plain text plus optional Markdown; codecs render it in the platform's format. */
export interface ChatMessage {
  text: string;
  markdown?: string;
  /** e.g. the report link */
  link?: { title: string; url: string };
  /** Set when the message refuses the request: the signed webhook answers it with a 4xx (or 503) and `ok: false`; chat platforms show the text as usual. */
  refusal?: Refusal;
}

/** Remembers ids for a while, so a request can be accepted only once. */
export interface ReplayGuard {
  /** true if this id was not seen before (records it); ttl in seconds */
  firstSeen(id: string, ttlSeconds: number): Promise<boolean>;
}

/** One chat platform's inbound side. */
export interface ChatCodec {
  platform: ChatPlatform;
  /**
   * Never throws on bad input: a malformed body is `{ kind: 'refused', status: 400 }`, a bad or
   * missing signature `{ kind: 'refused', status: 401 }`. It rejects only when the ReplayGuard does.
   * Signatures are checked over `req.body`, the bytes exactly as the runtime adapter received them.
   */
  verify(req: HttpRequest, now: Date): Promise<Verified>;
  /** The immediate HTTP answer to a verified command (Slack: ephemeral/in_channel JSON; DingTalk: markdown msg; Lark: {} ; webhook: JSON, with a 4xx status for a refusal). */
  ack(message: ChatMessage): HttpResponse;
  /** The answer to a request verify refused; without it the answer is `{ error: reason }` with the refusal's status. */
  refuse?(refused: Extract<Verified, { kind: 'refused' }>): HttpResponse;
}

/** Sends follow-up messages after the acknowledgement. */
export interface ChatSender {
  send(target: ReplyTarget, message: ChatMessage): Promise<void>;
}
