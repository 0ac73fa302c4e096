/**
 * chatops: one chat request in, an answer within the platform's few seconds out. The request is
 * verified (forged, expired and replayed ones get 401 and issue nothing), parsed, checked against
 * the access policy (deny by default; every decision logged, never a parameter value), and a run is
 * handed to the dispatch function asynchronously — so this path never loads the ECS SDK. A run its
 * catalog command or allowing rule marks `approval: required` is recorded instead, and handed over
 * only when someone else approves it (approvals.ts).
 *
 * Every run started or refused, every stop handed on and every refusal of a verified request is
 * appended to the audit record (runs/audit.ts) with one PUT before the answer goes; a failed write
 * is logged and the answer goes all the same. Requests that fail verification are not recorded:
 * who sent them is not known, and one object each would let anyone fill the bucket; they are logged.
 */
import { createHash } from 'node:crypto';
import { parseChatCommand, USAGE, type ChatCommand } from '../chat/grammar.ts';
import { platformOf } from '../chat/codecs.ts';
import type { ChatCodec, ChatMessage, ChatPlatform, InboundCommand, ReplayGuard } from '../chat/types.ts';
import { REFUSALS, refusal, type RefusalCode } from '../chat/refusals.ts';
import type { Catalog } from '../config/catalog.ts';
import { decide, decideAction, type Decision, type Policy, type Requester } from '../config/policy.ts';
import { buildRunSpec } from '../runs/build-run-spec.ts';
import { RunSpecError, type RunSpecProblem } from '../runs/command-script.ts';
import { runKeys } from '../runs/keys.ts';
import { parseSummaryJson } from '../runs/summary.ts';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Job } from '../schedule/jobs-file.ts';
import type { ObjectStore } from '../store/port.ts';
import { newRunId } from '../pipeline/start-run.ts';
import { presentResults, readManifest } from '../pipeline/finish-run.ts';
import { appendAudit } from '../pipeline/audit-log.ts';
import { refusalEvent, runEvent, stopEvent, type AuditEvent, type ChatAuditContext } from './chat-audit.ts';
import { dispatchRequestSchema, type Dispatcher } from './dispatch-request.ts';
import { alreadyFinishedMessage, finalMessage, progressMessage, startedMessage } from './messages.ts';
import { recentRuns } from './recent-runs.ts';
import { accessToRun, runScopeOf, type RunScope } from './run-scope.ts';
import { runsListMessage } from './runs-list-message.ts';
import { answerRetry } from './retry-run.ts';
import { answerApproval, approvalState, holdForApproval } from './approvals.ts';
import { approvalNeedOf } from '../config/approval-fields.ts';

export interface ChatopsDeps {
  codecs: Partial<Record<ChatPlatform, ChatCodec>>;
  catalog: Catalog;
  policy: Policy;
  jobs: Job[];
  store: ObjectStore;
  dispatcher: Dispatcher;
  sealKey?: string | undefined;
  /** The report link of `status <run>`: fleetrun's signed chatops link (report-links.ts); a presigned OSS URL without it. */
  reportLink?: (runId: string) => string;
  logger: Logger;
  now?: () => Date;
  /** How long a run waiting for approval may wait (FLEETRUN_APPROVAL_TTL_SECONDS). */
  approvalTtlSeconds?: number | undefined;
}

/** Replays and redeliveries are refused across every instance: the first write of a marker wins. */
export function storeReplayGuard(store: ObjectStore): ReplayGuard {
  return {
    async firstSeen(id) {
      const key = `chat/seen/${createHash('sha256').update(id).digest('hex')}`;
      return (await store.put(key, '', { forbidOverwrite: true })) === 'written';
    },
  };
}

function describeTargets(c: Extract<ChatCommand, { kind: 'run' }>): string {
  return 'instanceIds' in c.targets ? c.targets.instanceIds.join(', ') : Object.entries(c.targets.tags).map(([k, v]) => `${k}=${v}`).join(' ');
}

export async function handleChat(request: HttpRequest, deps: ChatopsDeps): Promise<HttpResponse> {
  const platform = platformOf(request.path);
  const codec = platform ? deps.codecs[platform] : undefined;
  if (!platform || !codec) return jsonResponse(404, { error: 'no chat platform is served at this path' });
  const verified = await codec.verify({ method: request.method, path: request.path, headers: request.headers, query: request.query, body: request.body }, deps.now?.() ?? new Date());
  if (verified.kind === 'refused') {
    deps.logger.warn('chat request refused', { platform, status: verified.status, reason: verified.reason });
    return codec.refuse ? codec.refuse(verified) : jsonResponse(verified.status, { error: verified.reason });
  }
  if (verified.kind === 'handshake') return { statusCode: verified.response.statusCode, headers: verified.response.headers, body: verified.response.body };
  const { message, event } = await answer(verified.command, deps);
  // The reason logged is the code's fixed meaning: the answer's text may repeat the request's words, parameter values among them.
  if (message.refusal) deps.logger.info('chat request refused', { platform, code: message.refusal.code, reason: REFUSALS[message.refusal.code].meaning });
  if (event) await appendAudit(deps, event.record, event.secrets);
  const ack = codec.ack(message);
  return { statusCode: ack.statusCode, headers: ack.headers, body: ack.body };
}

/** The refusal each reason a run cannot be built is answered with. */
const REFUSAL_OF: Record<RunSpecProblem, RefusalCode> = { 'unknown-command': 'UnknownCommand', 'bad-value': 'BadParameters', 'no-seal-key': 'NoSealKey' };

/** A message that refuses the request: chat platforms show the text, the signed webhook answers with the code's status. */
function refuse(code: RefusalCode, text: string): ChatMessage {
  return { text, refusal: refusal(code) };
}

/** The answer, and the audit record it makes (none for what changes nothing: help, jobs, an allowed status). */
interface Answered {
  message: ChatMessage;
  event?: AuditEvent | undefined;
}

/** Every policy decision is logged with who asked for what; never a parameter value (the request carries none). */
function logDecision(deps: ChatopsDeps, who: Requester, asked: { action: string; command?: string | undefined; runId?: string; judgedBy?: RunScope['from'] }, decision: Decision): void {
  deps.logger.info('policy decision', { platform: who.platform, user: who.userId, channel: who.channelId, ...asked, allow: decision.allow, rule: decision.rule, reason: decision.reason });
}

function requestedByOf(who: Requester) {
  return { kind: 'chat' as const, user: `${who.platform}:${who.userId}`, ...(who.channelId ? { channel: who.channelId } : {}) };
}

async function answer(inbound: InboundCommand, deps: ChatopsDeps): Promise<Answered> {
  const who: Requester = { platform: inbound.platform, userId: inbound.user.id, ...(inbound.channel ? { channelId: inbound.channel.id } : {}) };
  const audit: ChatAuditContext = { who: requestedByOf(who), at: deps.now?.() ?? new Date(), catalog: deps.catalog };
  const parsed = parseChatCommand(inbound.text);
  if (!parsed.ok) return { message: refuse('BadGrammar', `${parsed.error}\n\n${USAGE}`), event: refusalEvent(undefined, audit, 'BadGrammar') };
  const c = parsed.command;
  if (c.kind === 'status' || c.kind === 'stop') return answerAboutRun(c, who, inbound, deps, audit);
  if (c.kind === 'runs') return answerRuns(c, who, deps, audit);
  if (c.kind === 'retry') return answerRetry(c, who, inbound, deps, audit);
  if (c.kind === 'approve' || c.kind === 'deny') return answerApproval(c, who, deps, audit);
  const decision = decide(deps.policy, who, {
    action: c.kind,
    ...(c.kind === 'run' ? { command: c.script !== undefined ? 'script' : c.command, script: c.script !== undefined, targets: c.targets } : {}),
    // Tag targets are counted at dispatch, where the rule's maxTargets is checked again on the real number.
    ...(c.kind === 'run' ? { targetCount: 'instanceIds' in c.targets ? c.targets.instanceIds.length : 0 } : {}),
  });
  logDecision(deps, who, { action: c.kind, command: c.kind === 'run' ? (c.script !== undefined ? 'script' : c.command) : undefined }, decision);
  if (!decision.allow) {
    const message = refuse('NotAllowed', `Not allowed: ${decision.reason}`);
    return { message, event: c.kind === 'run' ? runEvent(c, audit, { refused: 'NotAllowed', policyReason: decision.reason }) : refusalEvent(c, audit, 'NotAllowed', { policyReason: decision.reason }) };
  }
  const requestedBy = audit.who;

  switch (c.kind) {
    case 'help':
      return { message: { text: USAGE } };
    case 'jobs':
      return { message: { text: deps.jobs.length ? deps.jobs.map((j) => `${j.name}: ${j.command} ${j.frequency}${j.enabled ? '' : ' (disabled)'} [${j.mode}]`).join('\n') : 'No scheduled jobs.' } };
    case 'run': {
      let spec;
      try {
        spec = buildRunSpec(
          deps.catalog,
          {
            command: c.command,
            script: c.script,
            with: c.with,
            timeoutSeconds: c.timeoutSeconds,
            targets: c.targets,
            maxConcurrency: c.concurrency,
            maxErrors: c.maxErrors,
            requestedBy,
            replyTo: inbound.replyTo,
          },
          deps.sealKey,
        );
      } catch (e) {
        if (e instanceof RunSpecError) return { message: refuse(REFUSAL_OF[e.problem], e.message), event: runEvent(c, audit, { refused: REFUSAL_OF[e.problem] }) };
        throw e;
      }
      const runId = newRunId(deps.now?.());
      // Checked with dispatch's own schema before anyone is told the run started: what dispatch
      // would refuse is refused here, at once, with the reason.
      const checked = dispatchRequestSchema.safeParse({ version: 1, kind: 'run', runId, requester: who, ...spec });
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        return { message: refuse('BadParameters', `the run cannot be sent: ${issue.path.join('.') || 'the request'} ${issue.message}`), event: runEvent(c, audit, { refused: 'BadParameters' }) };
      }
      const dispatch = checked.data;
      if (dispatch.kind !== 'run') throw new Error('a run was checked as something else');
      // The catalog command's or the allowing rule's `approval: required`: recorded, not dispatched (approvals.ts).
      const entry = c.script === undefined && Object.hasOwn(deps.catalog.commands, c.command) ? deps.catalog.commands[c.command]! : undefined;
      const need = decision.approval ?? (entry ? approvalNeedOf(entry) : undefined);
      if (need) return holdForApproval(dispatch, need, { command: c.script !== undefined ? 'a script' : c.command, targets: describeTargets(c) }, deps, audit);
      // What the run is about (run-scope.ts) is recorded by dispatch once it accepts the run.
      // Recorded before the hand-off: if dispatch fails more often than FC retries it (OSS down for
      // minutes), the schedule tick finds the record and starts the run; secrets in it are sealed.
      await deps.store.put(runKeys.pendingDispatch(runId), JSON.stringify(dispatch), { contentType: 'application/json' });
      await deps.dispatcher.dispatch(dispatch);
      return { message: startedMessage(runId, c.script !== undefined ? 'a script' : c.command, describeTargets(c)), event: runEvent(c, audit, { runId }) };
    }
  }
}

/**
 * `status` and `stop`: decisions on the run they name (its command and targets as asked,
 * run-scope.ts), not only on the action. Someone no rule allows the action at all is refused
 * before the run is looked up, so they cannot learn which runs exist.
 */
async function answerAboutRun(c: Extract<ChatCommand, { kind: 'status' | 'stop' }>, who: Requester, inbound: InboundCommand, deps: ChatopsDeps, audit: ChatAuditContext): Promise<Answered> {
  const mayAsk = decideAction(deps.policy, who, c.kind);
  if (!mayAsk.allow) {
    logDecision(deps, who, { action: c.kind, runId: c.runId }, mayAsk);
    return { message: refuse('NotAllowed', `Not allowed: ${mayAsk.reason}`), event: refusalEvent(c, audit, 'NotAllowed', { policyReason: mayAsk.reason }) };
  }
  const manifest = await readManifest(deps.store, c.runId);
  if (!manifest && c.kind === 'status') {
    // A run held for approval has no manifest yet: its status is where the approval stands, decided on what it is about.
    const held = await approvalState(deps.store, c.runId, deps.now?.() ?? audit.at);
    if (held) {
      const onHeld = decide(deps.policy, who, accessToRun('status', { ...held.scope, from: 'request' }));
      logDecision(deps, who, { action: 'status', command: held.scope.command, runId: c.runId, judgedBy: 'request' }, onHeld);
      if (!onHeld.allow) return { message: refuse('NotAllowed', `Not allowed: ${onHeld.reason}`), event: refusalEvent(c, audit, 'NotAllowed', { policyReason: onHeld.reason, command: held.scope.command }) };
      return { message: { text: held.text } };
    }
  }
  if (!manifest) return { message: refuse('UnknownRun', `No run ${c.runId}.`), event: refusalEvent(c, audit, 'UnknownRun') };
  const scope = await runScopeOf(deps.store, manifest, deps.jobs);
  const decision = decide(deps.policy, who, accessToRun(c.kind, scope));
  logDecision(deps, who, { action: c.kind, command: scope.command, runId: c.runId, judgedBy: scope.from }, decision);
  if (!decision.allow) return { message: refuse('NotAllowed', `Not allowed: ${decision.reason}`), event: refusalEvent(c, audit, 'NotAllowed', { policyReason: decision.reason, command: scope.command }) };

  const stored = await deps.store.get(runKeys.summaryJson(c.runId));
  const summary = stored ? parseSummaryJson(stored.toString('utf8')) : undefined;
  const reportUrl = () => deps.reportLink?.(c.runId) ?? deps.store.signedUrl(runKeys.report(c.runId), 7 * 24 * 3600);
  if (c.kind === 'status') {
    if (summary) return { message: finalMessage(summary, reportUrl()) };
    const have = (await presentResults(deps.store, manifest)).size;
    return { message: progressMessage(manifest, have, manifest.targets.length - manifest.skipped.length) };
  }
  // summary.json is written last, when every instance has a result: there is nothing left to stop,
  // and nothing is recorded — the run's finish record already says how it ended.
  if (summary) return { message: alreadyFinishedMessage(summary, reportUrl()) };
  await deps.dispatcher.dispatch({ version: 1, kind: 'stop', runId: c.runId, requestedBy: audit.who, replyTo: inbound.replyTo });
  return { message: { text: `Stopping ${c.runId}…` }, event: stopEvent(c.runId, manifest.command.name, audit) };
}

/**
 * `runs [N]`: the last N runs the asker may see, from the audit record. Someone no rule allows
 * `status` at all is refused; otherwise each run is listed only when the policy would answer
 * `status` on it (its command and targets as asked, as run-scope.ts judges a run), so the list
 * shows no run its asker could not look at one by one.
 */
async function answerRuns(c: Extract<ChatCommand, { kind: 'runs' }>, who: Requester, deps: ChatopsDeps, audit: ChatAuditContext): Promise<Answered> {
  const mayAsk = decideAction(deps.policy, who, 'status');
  if (!mayAsk.allow) {
    logDecision(deps, who, { action: 'runs' }, mayAsk);
    return { message: refuse('NotAllowed', `Not allowed: ${mayAsk.reason}`), event: refusalEvent(c, audit, 'NotAllowed', { policyReason: mayAsk.reason }) };
  }
  let hidden = 0;
  const found = await recentRuns(deps.store, {
    limit: c.limit,
    include: (run) => {
      const allowed = decide(deps.policy, who, accessToRun('status', { command: run.command, targets: run.targets, from: 'request' })).allow;
      if (!allowed) hidden++;
      return allowed;
    },
  });
  deps.logger.info('runs listed', { platform: who.platform, user: who.userId, channel: who.channelId, asked: c.limit, shown: found.runs.length, hidden, scanned: found.scanned });
  const reportUrl = (runId: string) => deps.reportLink?.(runId) ?? deps.store.signedUrl(runKeys.report(runId), 7 * 24 * 3600);
  return { message: runsListMessage(found.runs, { reportUrl, stoppedAtScan: found.stoppedAtScan ? { scanned: found.scanned } : undefined }) };
}
