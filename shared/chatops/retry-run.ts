/**
 * `retry <run> [failed|not-run|all]` in chat: a new run of a finished run's command and parameters
 * (runs/retry-spec.ts) on the instances asked for. Decided twice by the policy: `retry` on the run
 * it names, as `status` and `stop` are (run-scope.ts), and `run` of the new run — its command on
 * the run's targets as asked, with the number of instances retried. A run asked for by tag is
 * judged on its tags, which instance ids alone cannot show; dispatch then checks each instance
 * still has them. What cannot be retried is refused at once, with the reason: NotRetryable for a
 * run not finished (running, handed to dispatch and not started, or held for approval) or with
 * nothing of the kind; UnknownRun only for a run fleetrun has no trace of.
 */
import type { ChatCommand } from '../chat/grammar.ts';
import { refusal, type RefusalCode } from '../chat/refusals.ts';
import type { ChatMessage, InboundCommand } from '../chat/types.ts';
import { decide, decideAction, type Decision, type Policy, type Requester } from '../config/policy.ts';
import { fanOutPlanSchema } from '../runs/fan-out.ts';
import { runKeys } from '../runs/keys.ts';
import { nothingToRetry, retryInstances, retryRunSpec } from '../runs/retry-spec.ts';
import { parseSummaryJson } from '../runs/summary.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Job } from '../schedule/jobs-file.ts';
import type { ObjectStore } from '../store/port.ts';
import { readManifest } from '../pipeline/finish-run.ts';
import { newRunId } from '../pipeline/start-run.ts';
import { refusalEvent, retryRunEvent, type AuditEvent, type ChatAuditContext } from './chat-audit.ts';
import { dispatchRequestSchema, type Dispatcher } from './dispatch-request.ts';
import { startedMessage } from './messages.ts';
import { approvalState } from './approvals.ts';
import { accessToRun, runScopeOf, type RunScope } from './run-scope.ts';

export interface RetryDeps {
  policy: Policy;
  jobs: Job[];
  store: ObjectStore;
  dispatcher: Dispatcher;
  logger: Logger;
  now?: () => Date;
}

type Retry = Extract<ChatCommand, { kind: 'retry' }>;

function refused(code: RefusalCode, text: string): ChatMessage {
  return { text, refusal: refusal(code) };
}

/** Ids as a reply names them: a few by id, more by number. */
function describeInstances(ids: readonly string[], which: Retry['which'], runId: string): string {
  const kind = which === 'all' ? '' : `${which} `;
  const shown = ids.length <= 5 ? ids.join(', ') : `${ids.length} instances`;
  return `${shown} (the ${kind}instance${ids.length === 1 ? '' : 's'} of ${runId})`;
}

/**
 * A run named that has no manifest: handed to dispatch and not started yet (its hand-off record),
 * or held for approval (approvals.ts) — what it is about, and why it cannot be retried now.
 */
async function notStarted(store: ObjectStore, runId: string, now: Date): Promise<{ scope: RunScope; text: string } | undefined> {
  const raw = await store.get(runKeys.pendingDispatch(runId));
  if (raw) {
    let handed: ReturnType<typeof dispatchRequestSchema.safeParse> | undefined;
    try {
      handed = dispatchRequestSchema.safeParse(JSON.parse(raw.toString('utf8')));
    } catch {
      handed = undefined;
    }
    if (handed?.success && handed.data.kind === 'run') {
      const scope: RunScope = { command: handed.data.command.name, targets: handed.data.policyTargets ?? handed.data.targets, from: 'request' };
      return { scope, text: `${runId} has not started yet; wait for it to finish, then retry.` };
    }
  }
  const held = await approvalState(store, runId, now);
  return held ? { scope: { ...held.scope, from: 'request' }, text: `${runId} has not run, so there is nothing to retry — ${held.text}` } : undefined;
}

export async function answerRetry(c: Retry, who: Requester, inbound: Pick<InboundCommand, 'replyTo'>, deps: RetryDeps, audit: ChatAuditContext): Promise<{ message: ChatMessage; event: AuditEvent }> {
  const log = (asked: Record<string, unknown>, d: Decision) =>
    deps.logger.info('policy decision', { platform: who.platform, user: who.userId, channel: who.channelId, action: 'retry', runId: c.runId, ...asked, allow: d.allow, rule: d.rule, reason: d.reason });
  const refuse = (code: RefusalCode, text: string, options: { policyReason?: string; command?: string } = {}) => ({ message: refused(code, text), event: refusalEvent(c, audit, code, options) });

  // Someone no rule lets retry is refused before the run is looked up: they learn nothing of it.
  const mayAsk = decideAction(deps.policy, who, 'retry');
  if (!mayAsk.allow) {
    log({}, mayAsk);
    return refuse('NotAllowed', `Not allowed: ${mayAsk.reason}`, { policyReason: mayAsk.reason });
  }
  const manifest = await readManifest(deps.store, c.runId);
  if (!manifest) {
    // A run accepted but not started yet, or held for approval, is no unknown run: it is not retryable yet (or ever, once denied or expired), said to those who may retry it.
    const early = await notStarted(deps.store, c.runId, deps.now?.() ?? audit.at);
    if (!early) return refuse('UnknownRun', `No run ${c.runId}.`);
    const onEarly = decide(deps.policy, who, accessToRun('retry', early.scope));
    log({ command: early.scope.command, judgedBy: early.scope.from }, onEarly);
    if (!onEarly.allow) return refuse('NotAllowed', `Not allowed: ${onEarly.reason}`, { policyReason: onEarly.reason, command: early.scope.command });
    return refuse('NotRetryable', early.text, { command: early.scope.command });
  }
  const scope = await runScopeOf(deps.store, manifest, deps.jobs);
  const onRun = decide(deps.policy, who, accessToRun('retry', scope));
  log({ command: scope.command, judgedBy: scope.from }, onRun);
  if (!onRun.allow) return refuse('NotAllowed', `Not allowed: ${onRun.reason}`, { policyReason: onRun.reason, command: scope.command });

  const stored = await deps.store.get(runKeys.summaryJson(c.runId));
  if (!stored) return refuse('NotRetryable', `${c.runId} is still running; stop it or wait for it to finish, then retry.`, { command: scope.command });
  const planText = await deps.store.get(runKeys.fanOutPlan(c.runId));
  const plan = planText ? fanOutPlanSchema.safeParse(JSON.parse(planText.toString('utf8'))) : undefined;
  if (!plan?.success) return refuse('NotRetryable', `${c.runId} has no plan to retry from (it started before fleetrun kept one).`, { command: scope.command });
  const ids = retryInstances(parseSummaryJson(stored.toString('utf8')), c.which);
  if (ids.length === 0) return refuse('NotRetryable', `${nothingToRetry(c.runId, c.which)}.`, { command: scope.command });

  const spec = retryRunSpec(plan.data, ids, { requestedBy: audit.who, ...(inbound.replyTo !== undefined ? { replyTo: inbound.replyTo } : {}) });
  const retry = { ...spec, retryOf: c.runId };
  // The new run is judged as part of the run it retries: on that run's targets as asked when they
  // were tags (instance ids cannot show a rule's tags), else on its own instance ids.
  const judged = 'tags' in scope.targets ? scope.targets : spec.targets;
  const script = spec.command.name === 'script';
  const asRun = decide(deps.policy, who, { action: 'run', ...(script ? { script: true } : { command: spec.command.name }), targets: judged, targetCount: ids.length });
  log({ command: spec.command.name, as: 'run', instances: ids.length }, asRun);
  if (!asRun.allow) return { message: refused('NotAllowed', `Not allowed: ${asRun.reason}`), event: retryRunEvent(retry, audit, { refused: 'NotAllowed', policyReason: asRun.reason }) };

  const runId = newRunId(deps.now?.());
  const checked = dispatchRequestSchema.safeParse({ version: 1, kind: 'run', runId, requester: who, ...spec, ...('tags' in judged ? { policyTargets: judged } : {}) });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    return { message: refused('BadParameters', `the retry cannot be sent: ${issue.path.join('.') || 'the request'} ${issue.message}`), event: retryRunEvent(retry, audit, { refused: 'BadParameters' }) };
  }
  // As a chat run does (handle-chat.ts): the pending record, then the hand-off. Dispatch records
  // what the run is about — its policyTargets: the tags it was judged on — once it accepts it.
  await deps.store.put(runKeys.pendingDispatch(runId), JSON.stringify(checked.data), { contentType: 'application/json' });
  await deps.dispatcher.dispatch(checked.data);
  return { message: startedMessage(runId, script ? 'a script' : spec.command.name, describeInstances(ids, c.which, c.runId)), event: retryRunEvent(retry, audit, { runId }) };
}
