/**
 * Who a user or channel is in the policy and the catalog (`platform:id`, `*` wildcards), and the
 * fields that put a run on hold until someone else approves it (issue 15 part 4): a catalog
 * command or a policy rule may say `approval: required`, and `approvers` then limits who may.
 */
import { z } from 'zod';
import type { ChatPlatform } from '../chat/types.ts';

/** The chat front ends a user or channel id can come from (the `platform:` part of a pattern). */
export const CHAT_PLATFORMS = ['slack', 'dingtalk', 'lark', 'webhook'] as const satisfies readonly ChatPlatform[];

const PRINCIPAL = new RegExp(`^(?:\\*|${CHAT_PLATFORMS.join('|')}):\\S+$`);
export const principal = z
  .string()
  .regex(PRINCIPAL, `looks like platform:id, the platform one of ${CHAT_PLATFORMS.join(', ')} or *`);

/** `approval: required` and, optionally, the only users who may approve (besides the policy's own check). */
export const approvalFields = {
  approval: z.literal('required', { error: 'approval is "required" (leave it out when none is needed)' }).optional(),
  approvers: z.array(principal).min(1, 'lists nobody (leave it out to let anyone the policy allows approve)').optional(),
};

/** What a run that must be approved carries: who may approve it ([] = anyone the policy allows the run). */
export interface ApprovalNeed {
  approvers: string[];
}

/** The approval a command or rule asks for, or undefined; `approvers` without `approval` asks for none. */
export function approvalNeedOf(fields: { approval?: 'required' | undefined; approvers?: string[] | undefined }): ApprovalNeed | undefined {
  return fields.approval === 'required' ? { approvers: fields.approvers ?? [] } : undefined;
}

/** How long a run may wait for approval when FLEETRUN_APPROVAL_TTL_SECONDS is unset: fleetrun's own default, an hour, not a platform limit. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 3600;
