/**
 * Runs that wait for approval (issue 15 part 4). A catalog command or the policy rule that allows a
 * run may say `approval: required`: the run is then built and checked as any other, and recorded
 * once under the run (runs/<id>/approval/request.json, secrets sealed as in a pending-dispatch
 * record) instead of being handed to dispatch. `approve <run>` by someone else — allowed by the
 * policy to run that command on those targets, and among `approvers` when listed — hands it to
 * dispatch exactly as a normal run; `deny <run>` refuses it. The one decision is a create-once
 * object, so approvers racing start it once. Past FLEETRUN_APPROVAL_TTL_SECONDS it expires
 * unstarted: the schedule tick records that decision (approval-expiry.ts), finding the runs that wait
 * by an index named by expiry time (runs/keys.ts approvalWaiting); an approve or deny that comes
 * later is refused, and records the expiry itself if the tick has not yet.
 */
import { z } from 'zod';
import type { ChatCommand } from '../chat/grammar.ts';
import { refusal, type RefusalCode } from '../chat/refusals.ts';
import type { ChatMessage } from '../chat/types.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import { DEFAULT_APPROVAL_TTL_SECONDS, type ApprovalNeed } from '../config/approval-fields.ts';
import { decide, decideAction, matchesPrincipal, type Policy, type Requester } from '../config/policy.ts';
import { appendAudit } from '../pipeline/audit-log.ts';
import { runKeys } from '../runs/keys.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { approvalEvent, approvalRequestedEvent, refusalEvent, type AuditEvent, type ChatAuditContext } from './chat-audit.ts';
import { dispatchRequestSchema, type Dispatcher, type DispatchRequest } from './dispatch-request.ts';

export interface ApprovalDeps {
  policy: Policy;
  store: ObjectStore;
  dispatcher: Dispatcher;
  logger: Logger;
  now?: () => Date;
  approvalTtlSeconds?: number | undefined;
  /** Opens the run's sealed values only to redact them from its `requested` record. */
  sealKey?: string | undefined;
}

type RunDispatch = Extract<DispatchRequest, { kind: 'run' }>;

export const pendingApprovalSchema = z.object({
  version: z.literal(1),
  /** `platform:user` of who asked for the run: they cannot approve it. */
  requester: z.string(),
  approvers: z.array(z.string()),
  expiresAt: z.iso.datetime(),
  /** What the run is about, judged as a `run` of the approver. */
  scope: z.object({ command: z.string(), script: z.boolean(), targets: z.unknown() }),
  describe: z.object({ command: z.string(), targets: z.string() }),
  dispatch: z.unknown(),
});
export type PendingApproval = z.infer<typeof pendingApprovalSchema>;

export const decisionSchema = z.object({ decision: z.enum(['approved', 'denied', 'expired']), by: z.string().optional(), at: z.iso.datetime() });

/** The run is recorded as waiting; nothing is dispatched yet. */
export async function holdForApproval(
  dispatch: RunDispatch,
  need: ApprovalNeed,
  describe: { command: string; targets: string },
  deps: ApprovalDeps,
  audit: ChatAuditContext,
): Promise<{ message: ChatMessage; event: AuditEvent }> {
  const ttl = deps.approvalTtlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  const record: PendingApproval = {
    version: 1,
    requester: audit.who.user ?? '',
    approvers: need.approvers,
    expiresAt: new Date(audit.at.getTime() + ttl * 1000).toISOString(),
    scope: { command: dispatch.command.name, script: dispatch.command.name === 'script', targets: dispatch.targets },
    describe,
    dispatch,
  };
  // The index first: one whose request was never written is dropped by the tick; a request the
  // tick could not find would only expire when someone next approves or denies it.
  await deps.store.put(runKeys.approvalWaiting(record.expiresAt, dispatch.runId), '', { forbidOverwrite: true });
  await deps.store.put(runKeys.approvalRequest(dispatch.runId), JSON.stringify(record), { contentType: 'application/json', forbidOverwrite: true });
  const who = need.approvers.length ? ` (${need.approvers.join(', ')})` : '';
  const text = `Run ${dispatch.runId} is waiting for approval: ${describe.command} on ${describe.targets}. Someone else${who} may "approve ${dispatch.runId}" or "deny ${dispatch.runId}" within ${ttl} seconds.`;
  return { message: { text }, event: approvalRequestedEvent(dispatch.runId, dispatch, audit, { approvers: need.approvers, expiresAt: record.expiresAt }, deps.sealKey) };
}

/**
 * Records that `pending`'s run expired unstarted, once: the create-once `expired` decision and, for
 * whoever wrote it, its audit record (who asked, the command and targets). `written` false: a
 * decision was already there (expired, or decided in time).
 */
export async function recordExpiry(deps: { store: ObjectStore; logger: Logger }, runId: string, pending: PendingApproval, at: Date): Promise<{ written: boolean }> {
  const written = await deps.store.put(runKeys.approvalDecision(runId), JSON.stringify({ decision: 'expired', at: at.toISOString() }), { contentType: 'application/json', forbidOverwrite: true });
  if (written !== 'written') return { written: false };
  const asked = dispatchRequestSchema.safeParse(pending.dispatch);
  const who = asked.success && asked.data.kind === 'run' ? asked.data.requestedBy : { kind: 'chat' as const, user: pending.requester };
  const expired = approvalEvent(runId, aboutOf(pending), { who, at }, 'expired');
  await appendAudit(deps, expired.record, expired.secrets);
  return { written: true };
}

/** What a held run is about, for the policy and the audit record. */
function aboutOf(pending: PendingApproval): { command: string; targets: Targets } {
  return { command: pending.scope.command, targets: pending.scope.targets as Targets };
}

/** Read as JSON against `schema`; undefined when absent or unreadable. */
export async function readJson<S extends z.ZodType>(store: ObjectStore, key: string, schema: S): Promise<z.output<S> | undefined> {
  const raw = await store.get(key);
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A run held for approval as `status` shows it: what it is about (for the policy) and where its approval stands. */
export async function approvalState(store: ObjectStore, runId: string, now: Date): Promise<{ scope: { command: string; targets: Targets }; text: string } | undefined> {
  const pending = await readJson(store, runKeys.approvalRequest(runId), pendingApprovalSchema);
  if (!pending) return undefined;
  const decided = await readJson(store, runKeys.approvalDecision(runId), decisionSchema);
  const what = `${pending.describe.command} ${runId} on ${pending.describe.targets}`;
  const text =
    decided?.decision === 'approved'
      ? `${what}: approved by ${decided.by ?? 'an approver'}, starting.`
      : decided?.decision === 'denied'
        ? `${what}: denied by ${decided.by ?? 'an approver'}; it will not start.`
        : decided?.decision === 'expired' || now.getTime() >= Date.parse(pending.expiresAt)
          ? `${what}: expired unstarted at ${pending.expiresAt}; ask for it again.`
          : `${what}: waiting for approval (asked by ${pending.requester}${pending.approvers.length ? `; approvers: ${pending.approvers.join(', ')}` : ''}); expires at ${pending.expiresAt}.`;
  return { scope: { command: pending.scope.command, targets: pending.scope.targets as Targets }, text };
}

/** `approve <run>` and `deny <run>`. */
export async function answerApproval(
  c: Extract<ChatCommand, { kind: 'approve' | 'deny' }>,
  who: Requester,
  deps: ApprovalDeps,
  audit: ChatAuditContext,
): Promise<{ message: ChatMessage; event: AuditEvent }> {
  const refuse = (code: RefusalCode, text: string, options: { policyReason?: string; command?: string } = {}) => ({
    message: { text, refusal: refusal(code) },
    event: refusalEvent(c, audit, code, options),
  });
  const log = (allow: boolean, reason: string, rule?: string) =>
    deps.logger.info('policy decision', { platform: who.platform, user: who.userId, channel: who.channelId, action: c.kind, runId: c.runId, allow, rule, reason });
  // Someone no rule lets run anything is refused before the run is looked up: they learn nothing of it.
  const mayRun = decideAction(deps.policy, who, 'run');
  if (!mayRun.allow) {
    log(false, mayRun.reason);
    return refuse('NotAllowed', `Not allowed: ${mayRun.reason}`, { policyReason: mayRun.reason });
  }
  const pending = await readJson(deps.store, runKeys.approvalRequest(c.runId), pendingApprovalSchema);
  if (!pending) return refuse('UnknownRun', `No run ${c.runId} is waiting for approval.`);
  const command = pending.scope.command;
  const me = `${who.platform}:${who.userId}`;
  if (c.kind === 'approve' && pending.requester === me) return refuse('SelfApproval', `You asked for ${c.runId}: someone else must approve it.`, { command });
  const scope = pending.scope;
  const targets = scope.targets as Targets;
  // Judged as the requester's run was in chatops: tag targets are counted at dispatch.
  const onRun = decide(deps.policy, who, { action: 'run', ...(scope.script ? { script: true } : { command }), targets, targetCount: 'instanceIds' in targets ? targets.instanceIds.length : 0 });
  log(onRun.allow, onRun.reason, onRun.rule);
  if (!onRun.allow) return refuse('NotAllowed', `Not allowed: ${onRun.reason}`, { policyReason: onRun.reason, command });
  if (pending.approvers.length && !matchesPrincipal(pending.approvers, who.platform.toLowerCase(), who.userId)) {
    const reason = `${me} is not among the approvers of ${c.runId}`;
    return refuse('NotAllowed', `Not allowed: ${reason}`, { policyReason: reason, command });
  }

  const at = deps.now?.() ?? audit.at;
  const decided = await readJson(deps.store, runKeys.approvalDecision(c.runId), decisionSchema);
  if (decided) return refuse('NotPending', `${c.runId} is not waiting for approval: ${decided.decision}${decided.by ? ` by ${decided.by}` : ''}.`, { command });
  if (at.getTime() >= Date.parse(pending.expiresAt)) {
    // Before the tick got to it: the first to find it expired records the expiry; it was never started.
    await recordExpiry(deps, c.runId, pending, at);
    return refuse('NotPending', `${c.runId} expired unstarted at ${pending.expiresAt}; ask for it again.`, { command });
  }
  const decision = c.kind === 'approve' ? 'approved' : 'denied';
  const written = await deps.store.put(runKeys.approvalDecision(c.runId), JSON.stringify({ decision, by: me, at: at.toISOString() }), { contentType: 'application/json', forbidOverwrite: true });
  if (written !== 'written') {
    const other = await readJson(deps.store, runKeys.approvalDecision(c.runId), decisionSchema);
    return refuse('NotPending', `${c.runId} is not waiting for approval: ${other?.decision ?? 'decided'}${other?.by ? ` by ${other.by}` : ''}.`, { command });
  }
  // Decided: the tick need not look at it again (it drops the entry itself if this delete fails).
  await deps.store.delete(runKeys.approvalWaiting(pending.expiresAt, c.runId)).catch((e: unknown) => deps.logger.warn('approval index entry not removed', { runId: c.runId, error: (e as Error).message }));
  if (decision === 'denied') return { message: { text: `Run ${c.runId} denied by ${me}: it will not start.` }, event: approvalEvent(c.runId, aboutOf(pending), audit, 'denied') };

  const dispatch = dispatchRequestSchema.parse(pending.dispatch);
  if (dispatch.kind !== 'run') throw new Error(`the approval of ${c.runId} holds no run`);
  // As a chat run does (handle-chat.ts): the pending record, then the hand-off; dispatch records what the run is about once it accepts it.
  await deps.store.put(runKeys.pendingDispatch(c.runId), JSON.stringify(dispatch), { contentType: 'application/json' });
  await deps.dispatcher.dispatch(dispatch);
  // The run replies where it was asked for (its replyTo), not to the approver.
  const text = `Run ${c.runId} approved by ${me}: ${pending.describe.command} on ${pending.describe.targets} starts now; its progress and result go to the thread it was asked in.`;
  return { message: { text }, event: approvalEvent(c.runId, aboutOf(pending), audit, 'approved') };
}
