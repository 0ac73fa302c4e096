import { describe, expect, it } from 'vitest';
import { RUN_ID } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseJobsFile, type Job } from '../../shared/schedule/jobs-file.ts';
import { fireKeys, readFireMarker, runTimerJobs, scheduledRunId, type TimerJobsDeps } from '../../shared/schedule/timer-jobs.ts';
import { MemoryStore } from '../support/memory-store.ts';

const JOBS = parseJobsFile(
  `
jobs:
  - { name: every-minute, command: c, targets: { tags: { env: t } }, frequency: '0 * * * * ? UTC' }
  - { name: hourly, command: c, targets: { tags: { env: t } }, frequency: rate(1h) }
  - { name: off, command: c, targets: { tags: { env: t } }, frequency: '0 * * * * ? UTC', enabled: false }
  - { name: on-agent, command: c, targets: { tags: { env: t } }, frequency: rate(1m), timeout: 30, mode: native }
`,
  'jobs.yaml',
  { now: new Date('2026-11-23T00:00:00Z') },
);
const byName = (name: string): Job => JOBS.find((j) => j.name === name)!;
const t = (iso: string) => new Date(iso);
const quiet = createLogger({ sink: () => {} });

function harness(store = new MemoryStore(), start?: TimerJobsDeps['startJobRun']) {
  const calls: { job: string; fireTime: string }[] = [];
  const startJobRun: TimerJobsDeps['startJobRun'] =
    start ??
    (async (job, fireTime) => {
      calls.push({ job: job.name, fireTime: fireTime.toISOString() });
      return { runId: scheduledRunId(job, fireTime) };
    });
  const tick = (now: string, jobs: Job[] = JOBS, more: Partial<TimerJobsDeps> = {}) =>
    runTimerJobs({ jobs, store, now: t(now), lookbackSeconds: 300, startJobRun, logger: quiet, ...more });
  return { store, calls, tick };
}

describe('Function: runTimerJobs', () => {
  it('fires each due time once, and a tick after missed ones catches up within the lookback', async () => {
    const h = harness();
    const first = await h.tick('2026-11-23T10:00:10Z', [byName('every-minute')]);
    expect(first.fired.map((f) => f.fireTime.toISOString().slice(11, 16))).toEqual(['09:56', '09:57', '09:58', '09:59', '10:00']);
    // Three ticks missed; the one at 10:03:40 starts 10:01, 10:02 and 10:03, and nothing twice.
    const late = await h.tick('2026-11-23T10:03:40Z', [byName('every-minute')]);
    expect(late.fired.map((f) => f.fireTime.toISOString().slice(11, 16))).toEqual(['10:01', '10:02', '10:03']);
    expect(late.skipped.map((s) => [s.fireTime.toISOString().slice(11, 16), s.reason])).toEqual([
      ['09:59', 'already-claimed'],
      ['10:00', 'already-claimed'],
    ]);
    expect(h.calls).toHaveLength(8);
    expect(new Set(h.calls.map((c) => c.fireTime)).size).toBe(8);
    const marker = await readFireMarker(h.store, 'every-minute', t('2026-11-23T10:03:00Z'));
    expect(marker).toMatchObject({ status: 'started', runId: scheduledRunId(byName('every-minute'), t('2026-11-23T10:03:00Z')), fireTime: '2026-11-23T10:03:00.000Z' });
  });

  it('leaves disabled and native-mode jobs alone', async () => {
    const h = harness();
    const out = await h.tick('2026-11-23T10:00:00Z');
    expect(new Set(out.fired.map((f) => f.job))).toEqual(new Set(['every-minute', 'hourly']));
    expect([...h.store.objects.keys()].some((k) => k.includes('/off/') || k.includes('/on-agent/'))).toBe(false);
  });

  it('two ticks at once start each fire once', async () => {
    const h = harness();
    const [a, b] = await Promise.all([h.tick('2026-11-23T10:00:05Z'), h.tick('2026-11-23T10:00:06Z')]);
    expect(a.fired.length + b.fired.length).toBe(h.calls.length);
    expect(h.calls.filter((c) => c.job === 'hourly')).toEqual([{ job: 'hourly', fireTime: '2026-11-23T10:00:00.000Z' }]);
    expect(new Set(h.calls.map((c) => `${c.job} ${c.fireTime}`)).size).toBe(h.calls.length);
  });

  it('caps the fires per job per tick and reports the rest as capped', async () => {
    const h = harness();
    const out = await h.tick('2026-11-23T10:00:00Z', [byName('every-minute')], { maxFiresPerJob: 2 });
    expect(out.fired.map((f) => f.fireTime.toISOString().slice(11, 16))).toEqual(['09:59', '10:00']);
    expect(out.skipped.map((s) => [s.fireTime.toISOString().slice(11, 16), s.reason])).toEqual([
      ['09:56', 'capped'],
      ['09:57', 'capped'],
      ['09:58', 'capped'],
    ]);
  });

  it('marks a fire whose run failed to start as failed, does not retry it, and goes on with other jobs', async () => {
    const store = new MemoryStore();
    let attempts = 0;
    const h = harness(store, async (job, fireTime) => {
      if (job.name === 'hourly') {
        attempts++;
        throw new Error('ECS is down');
      }
      return { runId: scheduledRunId(job, fireTime) };
    });
    const out = await h.tick('2026-11-23T10:00:00Z');
    expect(out.skipped.filter((s) => s.job === 'hourly')).toEqual([{ job: 'hourly', fireTime: t('2026-11-23T10:00:00Z'), reason: 'start-failed' }]);
    expect(out.fired.filter((f) => f.job === 'every-minute')).toHaveLength(5);
    expect(await readFireMarker(store, 'hourly', t('2026-11-23T10:00:00Z'))).toMatchObject({ status: 'failed', error: 'Error: ECS is down' });
    const again = await h.tick('2026-11-23T10:01:00Z');
    expect(again.skipped).toContainEqual({ job: 'hourly', fireTime: t('2026-11-23T10:00:00Z'), reason: 'already-claimed' });
    expect(attempts).toBe(1);
  });

  it('a claim that could not be written starts nothing and is tried again by a later tick', async () => {
    const h = harness();
    h.store.failPuts = (key) => key.startsWith(fireKeys.jobPrefix('hourly'));
    const out = await h.tick('2026-11-23T10:00:00Z', [byName('hourly')]);
    expect(out).toEqual({ fired: [], skipped: [{ job: 'hourly', fireTime: t('2026-11-23T10:00:00Z'), reason: 'claim-failed' }] });
    h.store.failPuts = undefined;
    expect((await h.tick('2026-11-23T10:01:00Z', [byName('hourly')])).fired).toHaveLength(1);
  });

  it('refuses a lookback that is not a window of minutes to a day', async () => {
    const h = harness();
    await expect(h.tick('2026-11-23T10:00:00Z', JOBS, { lookbackSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(h.tick('2026-11-23T10:00:00Z', JOBS, { lookbackSeconds: 90_000 })).rejects.toThrow(/at most 86400/);
  });
});

describe('Function: scheduledRunId', () => {
  it('is the same for the same fire, different for another, and a valid run id even for a long name', () => {
    const j = byName('every-minute');
    const id = scheduledRunId(j, t('2026-11-23T10:00:00Z'));
    expect(id).toBe(scheduledRunId(j, t('2026-11-23T10:00:00Z')));
    expect(id).toMatch(/^r-20261123t100000-every-minute-[0-9a-f]{6}$/);
    expect(scheduledRunId(j, t('2026-11-23T10:01:00Z'))).not.toBe(id);
    const long = scheduledRunId({ name: 'a'.repeat(23) + '-' + 'b'.repeat(39) }, t('2026-11-23T10:00:00Z'));
    expect(long).toMatch(RUN_ID);
    expect(long).not.toBe(scheduledRunId({ name: 'a'.repeat(23) + '-' + 'c'.repeat(39) }, t('2026-11-23T10:00:00Z')));
  });
});
