/**
 * The chat parts of a function's wiring (runtime/function-deps.ts): the sender replies go out
 * through, the report links they carry, and the replier that sends progress and final replies.
 */
import { createSender } from '../chat/codecs.ts';
import type { ChatSender } from '../chat/types.ts';
import { replyConfigOf, type ChatReplyEnv } from '../config/chat-env.ts';
import type { FunctionEnv } from '../config/env.ts';
import type { ChatReplier } from '../pipeline/finish-run.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { reportLinks, type ReportLinkFor } from './report-links.ts';
import { senderReplier } from './run-replier.ts';

/** What a report link is made of: chatops' public URL, the key links are signed with, how long they last. */
export type ReportLinkEnv = Pick<FunctionEnv, 'FLEETRUN_PUBLIC_URL' | 'FLEETRUN_SEAL_KEY' | 'FLEETRUN_REPORT_LINK_DAYS'>;

/** Once per process: the sender keeps Lark's tenant token between invocations. */
export function chatSender(env: ChatReplyEnv): ChatSender {
  return createSender(replyConfigOf(env));
}

/** Per invocation: the links warn, once, through the invocation's logger when they fall back to presigned URLs. */
export function reportLinkFor(env: ReportLinkEnv, deps: { store: ObjectStore; logger: Logger }): ReportLinkFor {
  return reportLinks({ publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS, store: deps.store, logger: deps.logger });
}

/** Per invocation: progress (at most one message per interval) and final replies, with report links. */
export function chatReplier(env: ChatReplyEnv & ReportLinkEnv, deps: { sender: ChatSender; store: ObjectStore; logger: Logger }): ChatReplier {
  return senderReplier({ sender: deps.sender, store: deps.store, logger: deps.logger, intervalSeconds: env.FLEETRUN_PROGRESS_INTERVAL_SECONDS, reportLink: reportLinkFor(env, deps) });
}
