/**
 * Runs that waited for approval past their time expire as a recorded decision, not only when someone
 * next says approve or deny: each schedule tick (schedule/scheduler-tick.ts) lists the index of
 * runs waiting (`index/approval/<expiresAt>_<run>`, in expiry order, so it stops at the first not
 * yet due and opens none of the others), and for each one due writes the create-once `expired`
 * decision with its audit record (approvals.ts recordExpiry), tells the requester's thread once,
 * and drops the entry. Whoever writes a decision first wins — an approval in time, or this — so a
 * run that expired can never start: approve and deny find the decision and are refused NotPending.
 *
 * The expiry is the one the request was given when it was held (FLEETRUN_APPROVAL_TTL_SECONDS of
 * chatops at that time), written in the request and its index key: the schedule function needs no
 * TTL of its own, and a TTL changed later does not shorten or lengthen a wait already promised.
 * Every step is safe to repeat: a tick that dies midway, or two ticks at once, record one decision,
 * one audit record and one message. A message the thread did not take is tried again on the next
 * ticks, for an hour after the expiry.
 */
import type { ChatSender } from '../chat/types.ts';
import { runKeys } from '../runs/keys.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { decisionSchema, pendingApprovalSchema, readJson, recordExpiry } from './approvals.ts';
import { dispatchRequestSchema } from './dispatch-request.ts';

export interface ApprovalExpiryDeps {
  store: ObjectStore;
  sender: ChatSender;
  logger: Logger;
  /** The firing's time: a run whose expiry is at or before it has expired. */
  now: Date;
}

/** What the tick did with each run it found due. */
export interface ApprovalExpiryOutcome {
  runId: string;
  /** `expired`: this tick recorded the expiry; `decided`: a decision was there already (approved, denied or expired); `gone`: no request (its hold failed midway, or the bucket expired it). */
  state: 'expired' | 'decided' | 'gone';
}

/** How long after an expiry a message that could not be delivered is tried again: the library's choice, an hour of ticks. */
export const EXPIRY_MESSAGE_RETRY_MS = 60 * 60 * 1000;

const ENTRY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_(r-[a-z0-9-]+)$/;

/** Each run past its expiry: the decision recorded (once), the thread told (once), the index entry dropped. */
export async function expireApprovals(deps: ApprovalExpiryDeps): Promise<ApprovalExpiryOutcome[]> {
  const due: { key: string; runId: string }[] = [];
  for await (const o of deps.store.list(runKeys.approvalWaitingPrefix)) {
    const m = ENTRY.exec(o.key.slice(runKeys.approvalWaitingPrefix.length));
    if (!m) {
      deps.logger.warn('unreadable approval index entry dropped', { key: o.key.slice(0, 200) });
      await deps.store.delete(o.key);
      continue;
    }
    // Keys sort by expiry: the first not yet due ends the list.
    if (Date.parse(m[1]!) > deps.now.getTime()) break;
    due.push({ key: o.key, runId: m[2]! });
  }
  const outcomes: ApprovalExpiryOutcome[] = [];
  for (const { key, runId } of due) {
    const { state, retryMessage } = await expireOne(deps, runId);
    outcomes.push({ runId, state });
    // An expiry whose message could not be delivered keeps its entry: the next tick tells the thread again.
    if (!retryMessage) await deps.store.delete(key);
  }
  if (outcomes.length > 0) deps.logger.info('approvals expired', { expired: outcomes.filter((o) => o.state === 'expired').map((o) => o.runId), found: outcomes.length });
  return outcomes;
}

async function expireOne(deps: ApprovalExpiryDeps, runId: string): Promise<{ state: ApprovalExpiryOutcome['state']; retryMessage: boolean }> {
  const pending = await readJson(deps.store, runKeys.approvalRequest(runId), pendingApprovalSchema);
  if (!pending) return { state: 'gone', retryMessage: false };
  const { written } = await recordExpiry(deps, runId, pending, deps.now);
  const decided = written ? undefined : await readJson(deps.store, runKeys.approvalDecision(runId), decisionSchema);
  // Expired, by this tick or by an approve or deny that came too late: the thread hears of it once.
  const told = written || decided?.decision === 'expired' ? await tellThread(deps, runId, pending) : 'told';
  return { state: written ? 'expired' : 'decided', retryMessage: told === 'failed' };
}

/**
 * `told` also when the thread was told by another tick or has no thread; `failed` when the message
 * could not be delivered and may be tried again: the claim to tell is given back, so the next tick
 * (each minute) can, for up to {@link EXPIRY_MESSAGE_RETRY_MS} after the expiry.
 */
async function tellThread(deps: ApprovalExpiryDeps, runId: string, pending: { expiresAt: string; describe: { command: string; targets: string }; dispatch: unknown }): Promise<'told' | 'failed'> {
  const asked = dispatchRequestSchema.safeParse(pending.dispatch);
  const replyTo = asked.success && asked.data.kind === 'run' ? asked.data.replyTo : undefined;
  if (!replyTo) return 'told';
  const claim = runKeys.approvalExpiryTold(runId);
  if ((await deps.store.put(claim, '', { forbidOverwrite: true })) !== 'written') return 'told';
  const text = `Run ${runId} expired unstarted at ${pending.expiresAt}: nobody approved ${pending.describe.command} on ${pending.describe.targets} in time. It will not start; ask for it again.`;
  try {
    await deps.sender.send(replyTo, { text });
    return 'told';
  } catch (e) {
    // The decision and its record stand either way; only the message is tried again.
    const retry = deps.now.getTime() - Date.parse(pending.expiresAt) < EXPIRY_MESSAGE_RETRY_MS;
    deps.logger.warn('approval expiry reply failed', { runId, error: (e as Error).message, retry });
    if (!retry) return 'told';
    await deps.store.delete(claim);
    return 'failed';
  }
}
