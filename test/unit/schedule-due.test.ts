import { describe, expect, it } from 'vitest';
import { parseFrequency } from '../../shared/cloud-assistant/frequency.ts';
import { dueFires, fireWindow, MAX_FIRES_PER_CHECK, RATE_EPOCH } from '../../shared/schedule/due.ts';
import type { Job } from '../../shared/schedule/jobs-file.ts';

const CHECKED_AT = new Date('2026-01-01T00:00:00Z');

function job(frequency: string, start?: string): Pick<Job, 'schedule' | 'start'> {
  return { schedule: parseFrequency(frequency, { now: CHECKED_AT, timeoutSeconds: 10 }), ...(start ? { start: new Date(start) } : {}) };
}

const t = (iso: string) => new Date(iso);
const minus = (d: Date, seconds: number) => new Date(d.getTime() - seconds * 1000);

describe('Function: dueFires with cron', () => {
  it('reads the cron in its time zone: 02:00 Asia/Shanghai is 18:00 UTC the day before', () => {
    const nightly = job('0 0 2 * * ? Asia/Shanghai');
    expect(dueFires(nightly, t('2026-11-22T17:55:00Z'), t('2026-11-22T18:05:00Z'))).toEqual([t('2026-11-22T18:00:00Z')]);
    // Not at 02:00 UTC.
    expect(dueFires(nightly, t('2026-11-23T01:55:00Z'), t('2026-11-23T02:05:00Z'))).toEqual([]);
  });

  it('is (since, now]: a fire exactly at now is due, one exactly at since is not', () => {
    const nightly = job('0 0 2 * * ? Asia/Shanghai');
    const fire = t('2026-11-22T18:00:00Z');
    expect(dueFires(nightly, minus(fire, 300), fire)).toEqual([fire]);
    expect(dueFires(nightly, fire, new Date(fire.getTime() + 300_000))).toEqual([]);
    expect(dueFires(nightly, fire, fire)).toEqual([]);
  });

  it('follows daylight saving time in an IANA zone (New York: 14:00 UTC in summer, 15:00 in winter)', () => {
    const ny = job('0 0 10 * * ? America/New_York');
    expect(dueFires(ny, t('2026-07-01T13:00:00Z'), t('2026-07-01T16:00:00Z'))).toEqual([t('2026-07-01T14:00:00Z')]);
    expect(dueFires(ny, t('2026-12-01T13:00:00Z'), t('2026-12-01T16:00:00Z'))).toEqual([t('2026-12-01T15:00:00Z')]);
  });

  it('honours the year field', () => {
    const only2027 = job('0 0 0 1 1 ? 2027 UTC');
    expect(dueFires(only2027, t('2026-12-31T23:55:00Z'), t('2027-01-01T00:05:00Z'))).toEqual([t('2027-01-01T00:00:00Z')]);
    expect(dueFires(only2027, t('2027-12-31T23:55:00Z'), t('2028-01-01T00:05:00Z'))).toEqual([]);
  });
});

describe('Function: dueFires with rate', () => {
  it('is anchored at the epoch: rate(1h) fires on the hour UTC whatever the window', () => {
    const hourly = job('rate(1h)');
    expect(RATE_EPOCH.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(dueFires(hourly, t('2026-11-23T09:55:00Z'), t('2026-11-23T10:05:00Z'))).toEqual([t('2026-11-23T10:00:00Z')]);
    // Windows that start anywhere agree on the fire times: the grid does not move with the tick.
    const a = dueFires(hourly, t('2026-11-23T06:59:59Z'), t('2026-11-23T10:00:00Z'));
    const b = dueFires(hourly, t('2026-11-23T07:00:00.001Z'), t('2026-11-23T10:00:30Z'));
    expect(a).toEqual(['07', '08', '09', '10'].map((h) => t(`2026-11-23T${h}:00:00Z`)));
    expect(b).toEqual(a.slice(1));
  });

  it('is anchored at start when given, and fires nothing at or before it', () => {
    const j = job('rate(1h)', '2026-11-23T08:20:00Z');
    expect(dueFires(j, t('2026-11-23T07:00:00Z'), t('2026-11-23T10:30:00Z'))).toEqual([t('2026-11-23T09:20:00Z'), t('2026-11-23T10:20:00Z')]);
    expect(dueFires(job('rate(5m)', '2030-01-01T00:00:00Z'), t('2026-11-23T07:00:00Z'), t('2026-11-23T10:30:00Z'))).toEqual([]);
    // A cron fires only after start too.
    expect(dueFires(job('0 0 * * * ? UTC', '2026-11-23T09:00:00Z'), t('2026-11-23T07:30:00Z'), t('2026-11-23T10:30:00Z'))).toEqual([t('2026-11-23T10:00:00Z')]);
  });
});

describe('Function: dueFires with at', () => {
  it('fires once, at its time, and never again', () => {
    const once = job('at(2026-11-23 18:30:00 Asia/Shanghai)');
    const fire = t('2026-11-23T10:30:00Z');
    expect(dueFires(once, t('2026-11-23T10:25:00Z'), t('2026-11-23T10:30:00Z'))).toEqual([fire]);
    expect(dueFires(once, t('2026-11-23T10:30:00Z'), t('2026-11-23T10:35:00Z'))).toEqual([]);
    expect(dueFires(once, t('2026-11-23T10:00:00Z'), t('2026-11-23T10:29:59Z'))).toEqual([]);
    expect(dueFires(once, t('2026-11-23T00:00:00Z'), t('2027-01-01T00:00:00Z'))).toEqual([fire]);
  });
});

describe('lookback and the cap', () => {
  it('a window of five minutes catches up missed fire times: a tick 3 minutes late still sees its fire', () => {
    const everyMinute = job('0 * * * * ? UTC');
    const now = t('2026-11-23T10:03:00Z');
    expect(dueFires(everyMinute, minus(now, 300), now)).toEqual(['09:59', '10:00', '10:01', '10:02', '10:03'].map((m) => t(`2026-11-23T${m}:00Z`)));
    // Outside the lookback, a fire is gone for good.
    expect(dueFires(everyMinute, minus(now, 60), now)).toEqual([t('2026-11-23T10:03:00Z')]);
  });

  it(`keeps the latest ${MAX_FIRES_PER_CHECK} fire times and reports the older ones dropped`, () => {
    const every10s = job('*/10 * * * * ? UTC');
    const now = t('2026-11-23T10:05:00Z');
    const { due, dropped } = fireWindow(every10s, minus(now, 300), now);
    expect(due).toHaveLength(MAX_FIRES_PER_CHECK);
    expect(dropped).toHaveLength(30 - MAX_FIRES_PER_CHECK);
    expect(due.at(-1)).toEqual(now);
    expect(due[0]).toEqual(t('2026-11-23T10:03:30Z'));
    expect(dropped[0]).toEqual(t('2026-11-23T10:00:10Z'));
    expect(dueFires(every10s, minus(now, 300), now)).toEqual(due);
    expect(dueFires(every10s, minus(now, 300), now, 3)).toEqual(due.slice(-3));
    // A rate is capped the same way, however long the window.
    const rate = fireWindow(job('rate(1m)'), t('2026-11-22T10:00:00Z'), now);
    expect(rate.due).toHaveLength(MAX_FIRES_PER_CHECK);
    expect(rate.due.at(-1)).toEqual(now);
    expect(rate.dropped).toHaveLength(24 * 60 + 5 - MAX_FIRES_PER_CHECK);
  });

  it('refuses a window holding more fire times than a due check should ever scan', () => {
    expect(() => dueFires(job('*/10 * * * * ? UTC'), t('2026-01-01T00:00:00Z'), t('2026-02-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => dueFires(job('rate(1m)'), t('2026-01-01T00:00:00Z'), t('2026-02-01T00:00:00Z'))).toThrow(/more than 10000 fire times/);
  });
});
