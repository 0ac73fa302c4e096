/**
 * The timer tick for timer-mode jobs: on each FC timer invocation, every fire time that fell due in
 * the lookback window is started exactly once, however many ticks run at once or are retried.
 *
 * Exactly once comes from the bucket: a fire is claimed by writing `schedule/fires/<job>/<fireTime>`
 * with forbidOverwrite, which only one writer can win. The claim is made before the run starts, so
 * the guarantee is at most once: a tick that dies between its claim and the start loses that fire
 * (its marker stays `claimed`, for an operator to see) rather than risking a second run.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import { fireWindow, MAX_FIRES_PER_CHECK } from './due.ts';
import type { Job } from './jobs-file.ts';

/** The lookback must stay a window of minutes to hours; see `MAX_SCANNED_FIRES` in due.ts. */
export const MAX_LOOKBACK_SECONDS = 86_400;

/** A sensible lookback for a 1-minute timer: four missed ticks in a row are still caught up. */
export const DEFAULT_LOOKBACK_SECONDS = 300;

export const fireKeys = {
  prefix: 'schedule/fires/',
  jobPrefix: (job: string) => `schedule/fires/${job}/`,
  /** The full ISO time (`2026-11-23T02:00:00.000Z`): one key per fire, sortable, the same on every tick. */
  marker: (job: string, fireTime: Date) => `schedule/fires/${job}/${fireTime.toISOString()}`,
} as const;

/**
 * What a fire marker holds. `claimed` is written first (the claim); it becomes `started` with the run
 * id, or `failed` with the error. A `failed` fire is not retried: the next fire time runs as usual.
 */
export interface FireMarker {
  version: 1;
  job: string;
  fireTime: string;
  status: 'claimed' | 'started' | 'failed';
  /** Unique per claim attempt, so a tick whose claim write lost its answer can tell its own claim from another's. */
  claimId: string;
  claimedAt: string;
  runId?: string;
  error?: string;
  finishedAt?: string;
}

export type FireSkipReason =
  /** Another tick (concurrent, earlier or a retry of this one) holds the fire's marker. */
  | 'already-claimed'
  /** startJobRun failed; the marker records the error and the fire is not retried. */
  | 'start-failed'
  /** The marker could not be written (the bucket failed); nothing ran, so a later tick in the lookback may try again. */
  | 'claim-failed'
  /** More fire times were due than the per-check cap; only the latest were started. */
  | 'capped';

export interface TimerJobsDeps {
  jobs: Job[];
  store: ObjectStore;
  now: Date;
  /** Fire times in (now − lookback, now] are due; a lookback longer than the timer period catches up missed ticks. */
  lookbackSeconds: number;
  /** Starts one run of the job; should be idempotent per (job, fireTime), e.g. with `scheduledRunId`. */
  startJobRun: (job: Job, fireTime: Date) => Promise<{ runId: string }>;
  logger: Logger;
  /** Fire times of one job started per tick at most; default {@link MAX_FIRES_PER_CHECK}. */
  maxFiresPerJob?: number;
}

export interface TimerJobsOutcome {
  fired: { job: string; fireTime: Date; runId: string }[];
  skipped: { job: string; fireTime: Date; reason: FireSkipReason }[];
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Starts every enabled timer-mode job's due fire times, each exactly once across concurrent and
 * retried ticks. Jobs are independent: one whose run fails to start is logged and recorded, and the
 * others go on. Native-mode and disabled jobs are left alone.
 */
export async function runTimerJobs(deps: TimerJobsDeps): Promise<TimerJobsOutcome> {
  if (!(deps.lookbackSeconds > 0 && deps.lookbackSeconds <= MAX_LOOKBACK_SECONDS)) {
    throw new RangeError(`lookbackSeconds must be more than 0 and at most ${MAX_LOOKBACK_SECONDS} (got ${deps.lookbackSeconds})`);
  }
  const since = new Date(deps.now.getTime() - deps.lookbackSeconds * 1000);
  const max = deps.maxFiresPerJob ?? MAX_FIRES_PER_CHECK;
  const jobs = deps.jobs.filter((j) => j.enabled && j.mode === 'timer');
  // Jobs run side by side so one slow start does not hold up the rest; a job's own fires go in order.
  const perJob = await Promise.all(
    jobs.map((job) =>
      tickJob(job, since, max, deps).catch((e: unknown): TimerJobsOutcome => {
        // Not expected (tickJob catches the store's and startJobRun's errors), but one job must never stop the others.
        deps.logger.error('schedule: a job could not be checked', { job: job.name, error: errorText(e) });
        return { fired: [], skipped: [] };
      }),
    ),
  );
  return { fired: perJob.flatMap((o) => o.fired), skipped: perJob.flatMap((o) => o.skipped) };
}

async function tickJob(job: Job, since: Date, max: number, deps: TimerJobsDeps): Promise<TimerJobsOutcome> {
  const out: TimerJobsOutcome = { fired: [], skipped: [] };
  const { due, dropped } = fireWindow(job, since, deps.now, max);
  if (dropped.length > 0) {
    deps.logger.warn('schedule: more fire times due than the cap; starting only the latest', {
      job: job.name,
      due: due.length + dropped.length,
      cap: max,
      dropped: dropped.map((d) => d.toISOString()),
    });
    for (const fireTime of dropped) out.skipped.push({ job: job.name, fireTime, reason: 'capped' });
  }
  for (const fireTime of due) {
    const key = fireKeys.marker(job.name, fireTime);
    const marker: FireMarker = {
      version: 1,
      job: job.name,
      fireTime: fireTime.toISOString(),
      status: 'claimed',
      claimId: randomUUID(),
      claimedAt: new Date().toISOString(),
    };
    let claim: 'written' | 'exists';
    try {
      claim = await deps.store.put(key, JSON.stringify(marker), { contentType: 'application/json', forbidOverwrite: true });
    } catch (e) {
      // The write may have been applied and only its answer lost: then the marker is ours.
      const mine = await readFireMarker(deps.store, job.name, fireTime).then((m) => m?.claimId === marker.claimId, () => false);
      if (!mine) {
        deps.logger.error('schedule: could not claim a fire', { job: job.name, fireTime: marker.fireTime, error: errorText(e) });
        out.skipped.push({ job: job.name, fireTime, reason: 'claim-failed' });
        continue;
      }
      claim = 'written';
    }
    if (claim === 'exists') {
      out.skipped.push({ job: job.name, fireTime, reason: 'already-claimed' });
      continue;
    }
    // The claim is ours: only this tick gets here for this fire.
    let finished: FireMarker;
    try {
      const { runId } = await deps.startJobRun(job, fireTime);
      finished = { ...marker, status: 'started', runId, finishedAt: new Date().toISOString() };
      out.fired.push({ job: job.name, fireTime, runId });
      deps.logger.info('schedule: started a run', { job: job.name, fireTime: marker.fireTime, runId });
    } catch (e) {
      // Marked failed, not released: the run may have half started, and a released claim would be
      // retried by every tick in the lookback, against whatever made it fail.
      finished = { ...marker, status: 'failed', error: errorText(e), finishedAt: new Date().toISOString() };
      out.skipped.push({ job: job.name, fireTime, reason: 'start-failed' });
      deps.logger.error('schedule: a run failed to start; the fire is not retried', { job: job.name, fireTime: marker.fireTime, error: finished.error });
    }
    try {
      await deps.store.put(key, JSON.stringify(finished), { contentType: 'application/json' });
    } catch (e) {
      // The claim is what guarantees once; the outcome on the marker is for people, so losing it is only logged.
      deps.logger.warn('schedule: could not record a fire\'s outcome', { job: job.name, fireTime: marker.fireTime, error: errorText(e) });
    }
  }
  return out;
}

/** Reads a fire's marker, or undefined when the fire was never claimed. */
export async function readFireMarker(store: ObjectStore, job: string, fireTime: Date): Promise<FireMarker | undefined> {
  const body = await store.get(fireKeys.marker(job, fireTime));
  return body ? (JSON.parse(body.toString('utf8')) as FireMarker) : undefined;
}

/**
 * A run id for one fire of a job, the same every time it is computed: `r-<fire time>-<name>-<hash>`
 * (`r-20261123t020000-nightly-disk-check-3f9a1c`), within the run-id pattern of shared/runs/keys.ts.
 * Passing it to `startRun` makes a retried start find the run already started instead of starting
 * another. The name is cut to 24 characters; the hash of the full name keeps cut names apart.
 */
export function scheduledRunId(job: Pick<Job, 'name'>, fireTime: Date): string {
  const stamp = fireTime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  const hash = createHash('sha256').update(job.name).digest('hex').slice(0, 6);
  const name = job.name.slice(0, 24).replace(/-+$/, '');
  return `r-${stamp}-${name ? `${name}-` : ''}${hash}`;
}
