/**
 * The chat entry points: one codec per configured platform, a sender that routes follow-ups by
 * their target, the path → platform mapping, and an in-memory ReplayGuard.
 */
import type { ChatCodec, ChatMessage, ChatPlatform, ChatSender, ReplayGuard, ReplyTarget } from './types.ts';
import { ChatSendError, type FetchLike } from './platforms/common.ts';
import { createDingtalkCodec, sendDingtalk, type DingtalkOptions } from './platforms/dingtalk.ts';
import { createLarkCodec, createLarkSender, type LarkOptions, type LarkSender } from './platforms/lark.ts';
import { createSlackCodec, sendSlack, type SlackOptions } from './platforms/slack.ts';
import { createWebhookCodec, sendWebhook, type WebhookOptions } from './platforms/webhook.ts';

export { ChatSendError };

/** Every platform's secrets and options; a platform left out is not served. */
export interface ChatConfig {
  slack?: SlackOptions;
  dingtalk?: DingtalkOptions;
  lark?: LarkOptions;
  webhook?: WebhookOptions;
}

// Shorter secrets are configuration mistakes (a placeholder, a truncated paste), not secrets.
const MIN_SECRET_LENGTH = 8;

function requireSecret(platform: ChatPlatform, name: string, value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) {
    throw new Error(`chat configuration: ${platform}.${name} must be at least ${MIN_SECRET_LENGTH} characters`);
  }
}

/**
 * One codec per configured platform. Throws on a configuration that could not authenticate
 * anything (an empty secret; Lark with neither verificationToken nor encryptKey), so a mistake
 * fails at start rather than accepting unauthenticated commands.
 *
 * In production, `replay` should be shared by all instances (FC runs several): a per-instance
 * guard stops replays that reach the same instance only.
 */
export function createCodecs(config: ChatConfig, replay: ReplayGuard): Partial<Record<ChatPlatform, ChatCodec>> {
  const codecs: Partial<Record<ChatPlatform, ChatCodec>> = {};
  if (config.slack) {
    requireSecret('slack', 'signingSecret', config.slack.signingSecret);
    codecs.slack = createSlackCodec(config.slack, replay);
  }
  if (config.dingtalk) {
    requireSecret('dingtalk', 'appSecret', config.dingtalk.appSecret);
    codecs.dingtalk = createDingtalkCodec(config.dingtalk, replay);
  }
  if (config.lark) {
    if (config.lark.verificationToken !== undefined) requireSecret('lark', 'verificationToken', config.lark.verificationToken);
    if (config.lark.encryptKey !== undefined) requireSecret('lark', 'encryptKey', config.lark.encryptKey);
    codecs.lark = createLarkCodec(config.lark, replay);
  }
  if (config.webhook) {
    requireSecret('webhook', 'secret', config.webhook.secret);
    codecs.webhook = createWebhookCodec(config.webhook, replay);
  }
  return codecs;
}

/** Options of {@link createSender}. */
export interface SenderOptions {
  /** The clock for DingTalk session expiry, Lark token expiry and webhook signatures. */
  now?: () => Date;
}

/**
 * The follow-up sender, routing by `target.platform`. Slack and DingTalk need no configuration
 * (their reply URLs are capabilities); Lark needs lark.appId/appSecret, the webhook its secret.
 * Failures throw ChatSendError. Create it once per process, so Lark's token is reused while valid.
 */
export function createSender(config: ChatConfig, fetchImpl: FetchLike = fetch, options: SenderOptions = {}): ChatSender {
  const now = options.now ?? (() => new Date());
  let lark: LarkSender | undefined;
  return {
    async send(target: ReplyTarget, message: ChatMessage): Promise<void> {
      switch (target.platform) {
        case 'slack':
          return sendSlack(fetchImpl, target, message);
        case 'dingtalk':
          return sendDingtalk(fetchImpl, target, message, now());
        case 'lark':
          if (!config.lark?.appId || !config.lark.appSecret) throw new ChatSendError('Lark replies need lark.appId and lark.appSecret');
          lark ??= createLarkSender(config.lark, fetchImpl, now);
          return lark.send(target, message);
        case 'webhook':
          if (!config.webhook) throw new ChatSendError('webhook replies need webhook.secret (they are signed)');
          return sendWebhook(fetchImpl, config.webhook, target, message, now());
        default: {
          const unknown: never = target;
          throw new ChatSendError(`no sender for platform ${String((unknown as { platform: unknown }).platform)}`);
        }
      }
    },
  };
}

const PLATFORMS: readonly ChatPlatform[] = ['slack', 'dingtalk', 'lark', 'webhook'];

/**
 * The platform a request path is for: its last segment, so `/slack`, `/slack/` and `/chat/slack`
 * all answer 'slack' (FC custom domains and gateways add prefixes). A query string is ignored.
 * Undefined for anything else.
 */
export function platformOf(path: string): ChatPlatform | undefined {
  const segments = (path.split(/[?#]/, 1)[0] ?? '').split('/').filter(Boolean);
  const last = segments[segments.length - 1];
  return PLATFORMS.find((p) => p === last);
}

/**
 * A ReplayGuard in this process's memory: for tests, the local cloud and a single instance. Holds
 * at most `maxEntries` ids; past that the oldest are forgotten first, which weakens replay
 * protection only for the oldest requests rather than letting a flood exhaust memory.
 */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private calls = 0;

  /** `now` in epoch milliseconds (tests move it); `maxEntries` bounds memory. */
  constructor(now: () => number = Date.now, maxEntries = 100_000) {
    this.now = now;
    this.maxEntries = maxEntries;
  }

  async firstSeen(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    // Sweep now and then instead of on every call: expired entries cost memory, not correctness.
    if (++this.calls % 1000 === 0) for (const [key, expires] of this.seen) if (expires <= now) this.seen.delete(key);
    const expires = this.seen.get(id);
    if (expires !== undefined && expires > now) return false;
    // Re-inserting moves the id to the end, keeping Map order close to age order for eviction.
    this.seen.delete(id);
    this.seen.set(id, now + ttlSeconds * 1000);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
    return true;
  }

  /** How many ids are held (expired ones included until swept). */
  get size(): number {
    return this.seen.size;
  }
}
