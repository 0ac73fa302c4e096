/**
 * When a timer-mode job is due. Fire times come from the Cloud Assistant library's `nextRun`, so a
 * job fires at the moments Cloud Assistant would run the same Frequency, and every tick, on any
 * function instance, computes the same fire times: they depend on the job and the clock only.
 */
import { nextRun } from '../cloud-assistant/frequency.ts';
import type { Job } from './jobs-file.ts';

/**
 * At most this many fire times of one job are due in one check; older ones are dropped. A tick that
 * comes late (a cold start, an outage, a long lookback) must start a few runs, not a storm of them.
 */
export const MAX_FIRES_PER_CHECK = 10;

/**
 * Where a rate job's schedule is anchored when the job names no `start`: the Unix epoch,
 * 1970-01-01T00:00:00Z. Cloud Assistant counts a rate from the invocation's creation, which a timer
 * has no equivalent of; a fixed anchor puts the fire times on one grid that every tick agrees on
 * (rate(1h) fires on the hour UTC, rate(1d) at 00:00 UTC; rate(7d) on Thursdays, the epoch's weekday).
 */
export const RATE_EPOCH = new Date(0);

/**
 * Scanning a window stops after this many fire times. The window is meant to be a lookback of
 * minutes: cron runs are at least 10 s apart, so a day holds at most 8,640 of them.
 */
export const MAX_SCANNED_FIRES = 10_000;

/** The job's anchor: its `start`, else {@link RATE_EPOCH}. Nothing fires at or before it. */
export function scheduleAnchor(job: Pick<Job, 'start'>): Date {
  return job.start ?? RATE_EPOCH;
}

/** The fire times in a window: the due ones (at most the cap, the latest) and the ones the cap dropped. */
export interface FireWindow {
  /** Oldest first. */
  due: Date[];
  /** Fire times in the window older than the ones kept; oldest first. */
  dropped: Date[];
}

/**
 * Every fire time of `job` in (since, now], split into the latest `max` and the older ones dropped.
 *
 * @throws RangeError when the window holds more than {@link MAX_SCANNED_FIRES} fire times
 */
export function fireWindow(job: Pick<Job, 'schedule' | 'start'>, since: Date, now: Date, max = MAX_FIRES_PER_CHECK): FireWindow {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`max must be a whole number ≥ 0 (got ${max})`);
  if (now.getTime() <= since.getTime()) return { due: [], dropped: [] };
  const anchor = scheduleAnchor(job);
  const fires: Date[] = [];
  const { schedule } = job;
  if (schedule.kind === 'rate') {
    // A rate's grid is anchor + k × interval, k ≥ 1 (nextRun's rule); counted out directly, so a long window costs nothing.
    const interval = schedule.intervalSeconds * 1000;
    const first = nextRun(schedule, since, anchor);
    if (first === null) return { due: [], dropped: [] };
    const lastK = Math.floor((now.getTime() - anchor.getTime()) / interval);
    const firstK = Math.round((first.getTime() - anchor.getTime()) / interval);
    const count = lastK - firstK + 1;
    if (count <= 0) return { due: [], dropped: [] };
    // Only the kept ones and the dropped ones are listed; a dropped list longer than the scan bound is not useful.
    if (count > MAX_SCANNED_FIRES) throw tooMany(since, now);
    for (let k = firstK; k <= lastK; k++) fires.push(new Date(anchor.getTime() + k * interval));
  } else {
    let after = since;
    for (;;) {
      const next = nextRun(schedule, after, anchor);
      if (next === null || next.getTime() > now.getTime()) break;
      if (fires.length >= MAX_SCANNED_FIRES) throw tooMany(since, now);
      fires.push(next);
      after = next;
    }
  }
  const cut = Math.max(0, fires.length - max);
  return { due: fires.slice(cut), dropped: fires.slice(0, cut) };
}

function tooMany(since: Date, now: Date): RangeError {
  return new RangeError(
    `(${since.toISOString()}, ${now.toISOString()}] holds more than ${MAX_SCANNED_FIRES} fire times; a due check is for a lookback of minutes`,
  );
}

/**
 * The fire times of `job` in (since, now], oldest first, computed with `nextRun`. At most `max`
 * (default {@link MAX_FIRES_PER_CHECK}) are returned — the latest ones — so a late tick does not
 * start a storm. A rate is anchored at the job's `start`, else at {@link RATE_EPOCH}; an `at` job
 * fires once, at its time; nothing fires at or before `start`.
 */
export function dueFires(job: Pick<Job, 'schedule' | 'start'>, since: Date, now: Date, max = MAX_FIRES_PER_CHECK): Date[] {
  return fireWindow(job, since, now, max).due;
}
