/**
 * What the schedule function does each time its timer fires, in this order, each step waiting for
 * the one before:
 *
 * 1. Scheduled jobs (jobs-tick.ts): the timer-mode fire times due in the
 *    {@link DEFAULT_LOOKBACK_SECONDS} before the firing start, each exactly once; native-mode jobs
 *    are kept in step with their Cloud Assistant Period invocations. A scheduled run has no chat thread.
 * 2. Hand-offs that never started (chatops/dispatch-run.ts): chat runs handed to dispatch at least
 *    FLEETRUN_REDISPATCH_AFTER_SECONDS before the firing are dispatched again, replying in their thread.
 * 3. Approvals past their time (chatops/approval-expiry.ts): each run still waiting for approval at
 *    the firing past the expiry it was given gets the `expired` decision and its audit record, and
 *    its thread is told; it can never start after that.
 * 4. The reconciler (pipeline/reconcile.ts): open runs past their timeout and grace are read from
 *    ECS and fed through the results queue; final replies left unconfirmed are sent.
 *
 * The first three measure time from the firing (when the timer fired, not when this instance got to
 * it); the reconciler measures run deadlines by the clock. A step that throws does not stop the
 * others — the reconciler is the safety net for runs whose events never came, so a job that keeps
 * failing (ECS throttling its native sync, say) must not switch it off — but is logged, and the
 * invocation fails after all four with the first error; the next firing runs all four again, and
 * each is safe to repeat (fire claims, run ids that never run twice, create-once decisions, results
 * stored once per instance).
 *
 * Each step has its own time ({@link STEP_ENDS}), counted from the invocation's deadline (the
 * function's timeout, s.yaml `timeout: 120`; FC's context has no remaining-time method:
 * runtime/context.ts): a step still going at its end is left behind and counts as failed, and the
 * next step starts, so a slow re-dispatch or a jobs step stuck on a throttled API can never take
 * the reconciler's time — every run's repair gets its share of every firing.
 */
import { expireApprovals } from '../chatops/approval-expiry.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import type { ChatSender } from '../chat/types.ts';
import { redispatchStale } from '../chatops/dispatch-run.ts';
import type { Catalog } from '../config/catalog.ts';
import type { FunctionEnv } from '../config/env.ts';
import type { Policy } from '../config/policy.ts';
import { NO_CHAT, type ChatReplier } from '../pipeline/finish-run.ts';
import { reconcile } from '../pipeline/reconcile.ts';
import type { ResultQueue } from '../queue/port.ts';
import { triggerDate, type TimerEvent } from '../runtime/envelopes/timer.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import type { Job } from './jobs-file.ts';
import { runJobsTick } from './jobs-tick.ts';
import { DEFAULT_LOOKBACK_SECONDS } from './timer-jobs.ts';

/**
 * Stale hand-offs dispatched again per firing at most: fleetrun's own bound, not a platform limit.
 * Each one resolves targets and fans out within the one invocation; the rest wait for the next firings.
 */
export const REDISPATCH_PER_FIRING = 5;

/**
 * When each step must be done, as a fraction of the firing's time (from its start to the
 * invocation's deadline): the jobs by a quarter, the hand-offs by 45 %, the expired approvals by half
 * (a listing that stops at the first not yet due, and a few small writes each: a twentieth, six
 * seconds of s.yaml's 120, is ample, and what is left waits for the next firing), the reconciler by
 * nine tenths — the last tenth left to log and answer before FC stops the invocation. fleetrun's
 * own split, not a platform limit. A step that ends early leaves its time to the next, and the
 * reconciler always has at least two fifths of the firing.
 */
export const STEP_ENDS: Readonly<Record<keyof SchedulerSteps, number>> = { jobs: 0.25, redispatch: 0.45, approvals: 0.5, reconcile: 0.9 };

/** A step still going at the end of its time: left behind (it is safe to repeat), and the firing moves on. */
export class StepOutOfTimeError extends Error {
  override readonly name = 'StepOutOfTimeError';
}

/** The schedule function's configuration the steps read. */
export type SchedulerSettings = Pick<
  FunctionEnv,
  | 'FLEETRUN_REGION'
  | 'FLEETRUN_OUTPUT_BUCKET'
  | 'FLEETRUN_SEAL_KEY'
  | 'FLEETRUN_REDISPATCH_AFTER_SECONDS'
  | 'FLEETRUN_REPLY_TAKEOVER_SECONDS'
  | 'FLEETRUN_RECONCILE_GRACE_SECONDS'
  | 'FLEETRUN_RECONCILE_MAX_CALLS'
>;

export interface SchedulerTickDeps {
  store: ObjectStore;
  queue: ResultQueue;
  assistant: () => Promise<CloudAssistant>;
  /** Replies of re-dispatched runs ("started", refusals) and of runs whose approval expired. */
  sender: ChatSender;
  /** Progress and final replies of the runs the last two steps move on. */
  chat: ChatReplier;
  logger: Logger;
  catalog: Catalog;
  jobs: Job[];
  policy: Policy;
  settings: SchedulerSettings;
  /** When FC stops the invocation (FleetrunContext.deadline); without it the steps have no time limit. */
  deadline?: Date | undefined;
}

/** The four steps; a test hands in its own to watch their order and what each is given. */
export interface SchedulerSteps {
  jobs: typeof runJobsTick;
  redispatch: typeof redispatchStale;
  approvals: typeof expireApprovals;
  reconcile: typeof reconcile;
}

export const SCHEDULER_STEPS: SchedulerSteps = { jobs: runJobsTick, redispatch: redispatchStale, approvals: expireApprovals, reconcile };

type JobsOutcome = Awaited<ReturnType<typeof runJobsTick>>;

/** The reconciler's outcome, the hand-offs dispatched again, the approvals found past their time, and the jobs fired or skipped. */
export type SchedulerTickOutcome = Awaited<ReturnType<typeof reconcile>> & {
  redispatched: Awaited<ReturnType<typeof redispatchStale>>;
  approvals: Awaited<ReturnType<typeof expireApprovals>>;
  jobs: { fired: JobsOutcome['timer']['fired']; skipped: JobsOutcome['timer']['skipped']; native: NonNullable<JobsOutcome['native']>['outcomes'] };
};

/**
 * When the timer fired: its triggerTime, so a cold start or a retried invocation sees the same due
 * jobs and stale hand-offs as the firing itself. FC always sends triggerTime (docs/platform-facts.md
 * §5.4); only one that is not a readable time falls back to now, logged, so an unexpected format
 * delays nothing, and the fire-time claims keep a job from running twice.
 */
export function firingTime(tick: TimerEvent, logger: Logger, now: () => Date = () => new Date()): Date {
  const firedAt = triggerDate(tick);
  if (firedAt) return firedAt;
  logger.warn('timer event has no readable triggerTime; using the invocation time', { triggerTime: tick.triggerTime.slice(0, 64), triggerName: tick.triggerName });
  return now();
}

export async function schedulerTick(deps: SchedulerTickDeps, firedAt: Date, steps: SchedulerSteps = SCHEDULER_STEPS): Promise<SchedulerTickOutcome> {
  const { settings: s, store, assistant, logger } = deps;
  const failures: unknown[] = [];
  const began = Date.now();
  const firingMs = deps.deadline ? Math.max(0, deps.deadline.getTime() - began) : Number.POSITIVE_INFINITY;
  const step = async <T>(name: keyof SchedulerSteps, run: () => Promise<T>, otherwise: T): Promise<T> => {
    const endsIn = began + STEP_ENDS[name] * firingMs - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const work = run();
    try {
      if (!Number.isFinite(endsIn)) return await work;
      const outOfTime = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StepOutOfTimeError(`the ${name} step was still going at the end of its time (${Math.round(STEP_ENDS[name] * firingMs)} ms into the firing)`)), Math.max(0, endsIn));
      });
      return await Promise.race([work, outOfTime]);
    } catch (e) {
      failures.push(e);
      if (e instanceof StepOutOfTimeError) {
        // Left behind, not stopped: whatever it does later is safe to repeat, and a late failure is only logged.
        work.catch((late: unknown) => logger.warn('a schedule step left behind failed later', { step: name, error: (late as Error).message }));
        logger.error('schedule step ran out of its time; the next steps still run', { step: name, error: e.message });
      } else {
        logger.error('schedule step failed; the next steps still run', { step: name, error: (e as Error).message });
      }
      return otherwise;
    } finally {
      clearTimeout(timer);
    }
  };
  const scheduled = await step('jobs', () => steps.jobs({
    jobs: deps.jobs,
    catalog: deps.catalog,
    store,
    assistant,
    regionId: s.FLEETRUN_REGION,
    outputBucket: s.FLEETRUN_OUTPUT_BUCKET,
    sealKey: s.FLEETRUN_SEAL_KEY,
    chat: NO_CHAT,
    logger,
    now: firedAt,
    lookbackSeconds: DEFAULT_LOOKBACK_SECONDS,
  }), { timer: { fired: [], skipped: [] }, native: undefined } as JobsOutcome);
  const redispatched = await step('redispatch', () => steps.redispatch({
    store,
    assistant,
    regionId: s.FLEETRUN_REGION,
    outputBucket: s.FLEETRUN_OUTPUT_BUCKET,
    sealKey: s.FLEETRUN_SEAL_KEY,
    policy: deps.policy,
    sender: deps.sender,
    chat: deps.chat,
    logger,
    now: firedAt,
    afterSeconds: s.FLEETRUN_REDISPATCH_AFTER_SECONDS,
    max: REDISPATCH_PER_FIRING,
  }), []);
  const approvals = await step('approvals', () => steps.approvals({ store, sender: deps.sender, logger, now: firedAt }), []);
  const reconciled = await step('reconcile', () => steps.reconcile({
    store,
    queue: deps.queue,
    assistant,
    chat: deps.chat,
    replyTakeoverSeconds: s.FLEETRUN_REPLY_TAKEOVER_SECONDS,
    logger,
    regionId: s.FLEETRUN_REGION,
    sealKey: s.FLEETRUN_SEAL_KEY,
    graceSeconds: s.FLEETRUN_RECONCILE_GRACE_SECONDS,
    maxCalls: s.FLEETRUN_RECONCILE_MAX_CALLS,
  }), undefined);
  if (failures.length > 0) throw failures[0];
  logger.info('reconciled', { ...reconciled! });
  return { ...reconciled!, redispatched, approvals, jobs: { fired: scheduled.timer.fired, skipped: scheduled.timer.skipped, native: scheduled.native?.outcomes ?? [] } };
}
