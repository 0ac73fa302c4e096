/**
 * dispatch: the asynchronous half of a chat command. Starts a run (targets resolved, the policy's
 * maxTargets checked on their real number, what is due sent in calls of ≤100 — a
 * concurrency-limited run's first wave, the later ones sent as results come in: fan-out.ts) or
 * stops one, and tells the chat thread. It never waits for instances to finish. FC retries a
 * failed async invocation; startRun is idempotent per run id, so a retry never runs a command twice.
 * A run refused here is appended to the audit record (runs/audit.ts) as chatops' refusals are.
 */
import { resolveTargets, type Targets } from '../cloud-assistant/targets.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import type { ChatSender } from '../chat/types.ts';
import { refusal, type RefusalCode } from '../chat/refusals.ts';
import { decide, type Policy } from '../config/policy.ts';
import { appendAudit } from '../pipeline/audit-log.ts';
import { advanceFanOut } from '../pipeline/fan-out.ts';
import { startRun, stopInvocations } from '../pipeline/start-run.ts';
import { requestStop } from '../pipeline/stop-request.ts';
import { finishIfComplete, readManifest, type ChatReplier } from '../pipeline/finish-run.ts';
import { runKeys } from '../runs/keys.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { dispatchRefusalEvent } from './chat-audit.ts';
import { dispatchRequestSchema, type DispatchRequest } from './dispatch-request.ts';
import { recordRunScope } from './run-scope.ts';

export interface DispatchDeps {
  assistant: CloudAssistant;
  store: ObjectStore;
  regionId: string;
  outputBucket?: string | undefined;
  sealKey?: string | undefined;
  policy: Policy;
  sender: ChatSender;
  chat: ChatReplier;
  logger: Logger;
  /** The audit record's clock (tests); the time now when absent. */
  clock?: () => Date;
}

export type DispatchOutcome = { kind: 'run' | 'stop'; runId: string; state: 'dispatched' | 'stopped' | 'refused' | 'invalid'; reason?: string };

export async function handleDispatch(raw: unknown, deps: DispatchDeps): Promise<DispatchOutcome> {
  const parsed = dispatchRequestSchema.safeParse(raw);
  if (!parsed.success) {
    // Retrying a malformed request cannot help: log it and end the invocation successfully.
    const reason = `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`;
    deps.logger.error('malformed dispatch request', { reason });
    return { kind: 'run', runId: '', state: 'invalid', reason };
  }
  const request = parsed.data;
  const target = request.replyTo;
  // A follow-up that reports a refusal carries its code: the signed webhook posts it as ok:false.
  const say = async (text: string, refused?: RefusalCode) => {
    if (target) await deps.sender.send(target, { text, ...(refused ? { refusal: refusal(refused) } : {}) }).catch((e: unknown) => deps.logger.warn('chat reply failed', { runId: request.runId, error: (e as Error).message }));
  };

  if (request.kind === 'stop') {
    // The marker first, then the fan-out's log: a batch being sent right now is recorded after this
    // marker was written, and its sender finds the marker and stops it itself (fan-out.ts). Read
    // after the marker, the manifest is read once; the log names every call recorded so far.
    await requestStop(deps.store, request.runId);
    const manifest = await readManifest(deps.store, request.runId);
    if (!manifest) {
      await deps.store.delete(runKeys.stopRequest(request.runId));
      await say(`No run ${request.runId}.`, 'UnknownRun');
      return { kind: 'stop', runId: request.runId, state: 'invalid', reason: 'no such run' };
    }
    // An open fan-out ends here: what was never sent is Cancelled, and the final manifest says so.
    const fanOutDeps = { ...deps, assistant: async () => deps.assistant };
    const advanced = await advanceFanOut(manifest, fanOutDeps);
    await stopInvocations(request.runId, advanced.invocations, deps);
    if (advanced.finalized) await finishIfComplete(advanced.manifest, deps);
    await say(`${manifest.command.name} ${request.runId}: stop requested; instances still running end Terminated, those not sent or not started Cancelled.`);
    return { kind: 'stop', runId: request.runId, state: 'stopped' };
  }

  // Read once: startRun is handed what was found instead of reading it again.
  const existing = await readManifest(deps.store, request.runId);
  const resolved = existing ? undefined : await resolveTargets(deps.assistant, request.targets);
  if (resolved && request.requester) {
    const judged = await judgedTargets(deps, request);
    const count = resolved.runnable.length + resolved.skipped.length;
    const asked = decide(deps.policy, request.requester, { action: 'run', command: request.command.name, targets: judged.targets, targetCount: count });
    const decision = judged.left && !asked.allow ? { ...asked, reason: `${judged.left}; by instance id, ${asked.reason}` } : asked;
    deps.logger.info('policy decision at dispatch', { runId: request.runId, allow: decision.allow, rule: decision.rule, reason: decision.reason, targets: resolved.runnable.length, ...(judged.left ? { judgedBy: 'instances' } : {}) });
    if (!decision.allow) {
      const event = dispatchRefusalEvent(request.runId, request, deps.clock?.() ?? new Date(), decision.reason, deps.sealKey);
      await appendAudit(deps, event.record, event.secrets);
      await say(`Run ${request.runId} not started: ${decision.reason}`, 'NotAllowed');
      await deps.store.delete(runKeys.pendingDispatch(request.runId));
      return { kind: 'run', runId: request.runId, state: 'refused', reason: decision.reason };
    }
  }
  // Accepted: what the run is about, for the policy's later decisions on it (run-scope.ts), written
  // before its manifest — never for a run refused above, which leaves nothing under runs/<id>/.
  if (!existing) await recordRunScope(deps.store, request.runId, { command: request.command.name, targets: request.policyTargets ?? request.targets });
  // The request is the run's RunSpec as chatops built it: startRun takes it as it is. It sends what
  // is due now and returns; the "sent to N instances" notice goes out as the fan-out ends (fan-out.ts).
  await startRun(
    { ...request, ...(resolved ? { resolved } : {}) },
    { assistant: deps.assistant, store: deps.store, regionId: deps.regionId, outputBucket: deps.outputBucket, sealKey: deps.sealKey, chat: deps.chat, logger: deps.logger },
    { manifest: existing },
  );
  await deps.store.delete(runKeys.pendingDispatch(request.runId));
  return { kind: 'run', runId: request.runId, state: 'dispatched' };
}

/**
 * The targets a run is judged by: its own, or — a retry of a run asked for by tag — that run's tags
 * (policyTargets), while each instance it names still has them. The tags may have changed since:
 * then the retry, which runs on exactly the instances it names or not at all, is judged on those
 * instance ids, as `run … on <ids>` would be. A rule that covers them so (one with no target
 * limit, or listing them) still allows it; one that allowed them only by the tags they no longer
 * have does not — a retry never reaches an instance its requester could not run on now.
 * `left` says which instances left the tags, for the refusal.
 */
async function judgedTargets(deps: DispatchDeps, request: Extract<DispatchRequest, { kind: 'run' }>): Promise<{ targets: Targets; left?: string }> {
  const policy = request.policyTargets;
  if (!policy || !('tags' in policy) || !('instanceIds' in request.targets)) return { targets: request.targets };
  const tagged = await resolveTargets(deps.assistant, policy);
  const within = new Set([...tagged.runnable, ...tagged.skipped.map((s) => s.instanceId)]);
  const outside = request.targets.instanceIds.filter((id) => !within.has(id));
  if (outside.length === 0) return { targets: policy };
  const tags = Object.entries(policy.tags).map(([k, v]) => `${k}=${v}`).join(' ');
  const named = outside.length <= 5 ? outside.join(', ') : `${outside.slice(0, 5).join(', ')} and ${outside.length - 5} more`;
  const which = outside.length === 1 ? `instance ${named} no longer has` : `instances ${named} no longer have`;
  return { targets: request.targets, left: `${which} the tags ${tags} the retried run was allowed on` };
}

/**
 * Runs handed to dispatch that never started: FC gave up retrying the asynchronous invocation (OSS
 * or ECS down for longer than its retries), yet the user was told the run started. Each record
 * older than `afterSeconds` is dispatched again here — safe, because a run id never runs twice.
 */
export async function redispatchStale(
  deps: Omit<DispatchDeps, 'assistant' | 'clock'> & { assistant: () => Promise<CloudAssistant>; now: Date; afterSeconds: number; max: number },
): Promise<DispatchOutcome[]> {
  const stale: string[] = [];
  for await (const o of deps.store.list(runKeys.pendingDispatchPrefix)) {
    if (stale.length >= deps.max) break;
    if (deps.now.getTime() - Date.parse(o.lastModified) >= deps.afterSeconds * 1000) stale.push(o.key);
  }
  const outcomes: DispatchOutcome[] = [];
  for (const key of stale) {
    const body = await deps.store.get(key);
    if (!body) continue;
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      deps.logger.error('unreadable pending dispatch record', { key });
      await deps.store.delete(key);
      continue;
    }
    const outcome = await handleDispatch(request, { ...deps, assistant: await deps.assistant() });
    if (outcome.state === 'invalid') await deps.store.delete(key);
    deps.logger.info('pending dispatch retried', { runId: outcome.runId, state: outcome.state });
    outcomes.push(outcome);
  }
  return outcomes;
}
