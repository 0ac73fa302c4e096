/**
 * Where a run's follow-up messages go, as a schema: the reply targets the chat senders accept
 * (shared/chat/types.ts `ReplyTarget`). A run carries one from the chat request through dispatch
 * into its manifest, so it is checked where it enters (the dispatch request, the manifest) and
 * every later reader gets a target a sender can use, or none.
 */
import { z } from 'zod';
import type { ReplyTarget } from '../chat/types.ts';

export const replyTargetSchema = z.discriminatedUnion('platform', [
  z.object({ platform: z.literal('slack'), responseUrl: z.string(), channelId: z.string().optional() }),
  z.object({ platform: z.literal('dingtalk'), sessionWebhook: z.string(), expiresAt: z.number().optional(), conversationId: z.string().optional() }),
  z.object({ platform: z.literal('lark'), chatId: z.string(), messageId: z.string().optional() }),
  z.object({ platform: z.literal('webhook'), callbackUrl: z.string().optional() }),
]);

// The schema and the senders' type must describe the same targets, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAsSenders: Same<z.output<typeof replyTargetSchema>, ReplyTarget> = true;
void sameAsSenders;
