/**
 * Where a run's objects live in the bucket. Every key is derived from natural ids (run, instance),
 * so writing the same result twice lands on the same key and a duplicate delivery is harmless.
 */
export const RUN_ID = /^r-[a-z0-9][a-z0-9-]{5,46}$/;

export const runKeys = {
  prefix: (runId: string) => `runs/${runId}/`,
  manifest: (runId: string) => `runs/${runId}/manifest.json`,
  /** The earlier layout, one object per result: still read (a run stored across an upgrade), no longer written. */
  resultsPrefix: (runId: string) => `runs/${runId}/results/`,
  result: (runId: string, instanceId: string) => `runs/${runId}/results/${instanceId}.json`,
  /**
   * A summarizer's stored results, one object per batch, named by the hash of its bytes and the
   * count it holds (pipeline/result-batch.ts), so the same batch twice is the same object; the
   * earlier layout's markers naming a batch of result objects are here too, without the count.
   */
  storedPrefix: (runId: string) => `runs/${runId}/stored/`,
  stored: (runId: string, batchName: string) => `runs/${runId}/stored/${batchName}`,
  output: (runId: string, instanceId: string) => `runs/${runId}/outputs/${instanceId}.txt`,
  summaryJson: (runId: string) => `runs/${runId}/summary.json`,
  summaryMarkdown: (runId: string) => `runs/${runId}/summary.md`,
  report: (runId: string) => `runs/${runId}/report.html`,
  /** Create-once claims on the run's final reply: `replied`, then `replied.1`, `replied.2`… one per takeover. */
  replyClaim: (runId: string, generation: number) => `runs/${runId}/replied${generation === 0 ? '' : `.${generation}`}`,
  replyClaimsPrefix: (runId: string) => `runs/${runId}/replied`,
  /** Present once the final reply went out (or there was nowhere to send it). */
  replySent: (runId: string) => `runs/${runId}/reply-sent`,
  /** A retry of the run (`retry <run>`), created once by the retry's summarizer: the run's summary lists these as its retries. */
  retryLink: (runId: string, retryId: string) => `runs/${runId}/retries/${retryId}`,
  retryLinksPrefix: (runId: string) => `runs/${runId}/retries/`,
  /** Present once someone asked to stop the run; whoever sends a batch looks for it before and after. */
  stopRequest: (runId: string) => `runs/${runId}/stop-requested`,
  /** What the fan-out sends and how (fan-out.ts): written once, before the manifest. */
  fanOutPlan: (runId: string) => `runs/${runId}/plan.json`,
  /**
   * The fan-out's log (pipeline/fan-out.ts): decision n, created once, says batch n goes or the
   * fan-out ends before it; `<n>.sent` says where batch n went, written once by whoever sent it.
   * n is zero-padded so the log lists in order.
   */
  fanOutPrefix: (runId: string) => `runs/${runId}/fan-out/`,
  fanOutDecision: (runId: string, n: number) => `runs/${runId}/fan-out/${String(n).padStart(6, '0')}`,
  fanOutSent: (runId: string, n: number) => `runs/${runId}/fan-out/${String(n).padStart(6, '0')}.sent`,
  /** Create-once claim on the "sent to N instances" notice, which goes out once, as the fan-out ends. */
  sentNotice: (runId: string) => `runs/${runId}/sent-notice`,
  /**
   * Create-once claims on a command's result reads, one per slot of the fetch interval (`<slot>`),
   * and what each claimed read covered (`<slot>.done`): the budget every task-events instance shares.
   * `scope` is the InvokeId, or the CommandId when events name no invocation.
   */
  readsPrefix: (runId: string, scope: string) => `runs/${runId}/reads/${encodeURIComponent(scope)}/`,
  readClaim: (runId: string, scope: string, slot: number) => `runs/${runId}/reads/${encodeURIComponent(scope)}/${slot}`,
  readDone: (runId: string, scope: string, slot: number) => `runs/${runId}/reads/${encodeURIComponent(scope)}/${slot}.done`,
  /** A run waiting for approval (chatops/approvals.ts): the dispatch request as built, written once. */
  approvalRequest: (runId: string) => `runs/${runId}/approval/request.json`,
  /** The one decision on it (approved, denied or expired), written once: racing approvers start it once. */
  approvalDecision: (runId: string) => `runs/${runId}/approval/decision.json`,
  /** Told once to the requester's thread that the run expired unstarted (chatops/approval-expiry.ts). */
  approvalExpiryTold: (runId: string) => `runs/${runId}/approval/expiry-told`,
  /**
   * A run waiting for approval, named by when it expires (an ISO time: the listing is in expiry
   * order), so the schedule tick finds the ones past it without opening the others; removed once decided.
   */
  approvalWaiting: (expiresAt: string, runId: string) => `index/approval/${expiresAt}_${runId}`,
  approvalWaitingPrefix: 'index/approval/',
  /** A chat run handed to dispatch and not yet started (or refused): the schedule tick retries it. */
  pendingDispatch: (runId: string) => `index/dispatch/${runId}.json`,
  pendingDispatchPrefix: 'index/dispatch/',
  /** Present while a run is open; the reconciler lists these. */
  openMarker: (runId: string) => `index/open/${runId}`,
  openPrefix: 'index/open/',
} as const;

/**
 * RunCommand names fleetrun's commands `fleetrun:<runId>:b<batch>:<name>`, so an event (whose
 * documented fields include the command's name) names its run and the call it came from.
 */
export const COMMAND_NAME_PREFIX = 'fleetrun:';

export function commandNameFor(runId: string, name: string, batch?: number): string {
  return `${COMMAND_NAME_PREFIX}${runId}:${batch === undefined ? '' : `b${batch}:`}${name}`.slice(0, 128);
}

export function runIdFromCommandName(commandName: string): string | undefined {
  if (!commandName.startsWith(COMMAND_NAME_PREFIX)) return undefined;
  const runId = commandName.slice(COMMAND_NAME_PREFIX.length).split(':', 1)[0] ?? '';
  return RUN_ID.test(runId) ? runId : undefined;
}

/** The dispatch batch a command name carries; undefined for names without one (older runs). */
export function batchFromCommandName(commandName: string): number | undefined {
  const m = /^b(\d{1,6})$/.exec(commandName.slice(COMMAND_NAME_PREFIX.length).split(':', 3)[1] ?? '');
  return m ? Number(m[1]) : undefined;
}
