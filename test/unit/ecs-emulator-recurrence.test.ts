/**
 * The local Cloud Assistant's reading of Frequency, with cases from seeds 000/001 (the three forms, a cron zone or the
 * instance's), seed 002 (runs ≥ 10 s apart), the RunCommand page (rate 60 s–7 d and > Timeout, at in the future,
 * cron runs ≥ Timeout apart) and the cron expressions page (field ranges, 1 = Monday, years to 2099, one leading zero).
 */
import { describe, expect, it } from 'vitest';
import { FrequencyError, nextRun, parseFrequency, type Recurrence } from '../../local/ecs/recurrence.ts';

const NOW = new Date('2026-12-01T00:00:00Z'); // a Tuesday

function refusal(text: string, context: Parameters<typeof parseFrequency>[1] = {}): FrequencyError {
  try {
    parseFrequency(text, { now: NOW, ...context });
  } catch (e) {
    expect(e).toBeInstanceOf(FrequencyError);
    return e as FrequencyError;
  }
  throw new Error(`"${text}" was accepted`);
}

/** The next `n` runs after `from` of a schedule created at NOW. */
function runs(r: Recurrence, n: number, from = NOW): (string | null)[] {
  const out: (string | null)[] = [];
  let after = from;
  for (let i = 0; i < n; i++) {
    const next = nextRun(r, after, NOW);
    out.push(next?.toISOString() ?? null);
    if (!next) break;
    after = next;
  }
  return out;
}

describe('rate(...)', () => {
  it('rate(5m) fires one interval after creation, then every interval', () => {
    const r = parseFrequency('rate(5m)', { now: NOW, timeoutSeconds: 60 });
    expect(r).toMatchObject({ kind: 'rate', intervalSeconds: 300 });
    expect(runs(r, 3)).toEqual(['2026-12-01T00:05:00.000Z', '2026-12-01T00:10:00.000Z', '2026-12-01T00:15:00.000Z']);
    // a late question still lands on the creation grid, and nothing fires before the task exists
    expect(nextRun(r, new Date('2026-12-01T00:07:30Z'), NOW)?.toISOString()).toBe('2026-12-01T00:10:00.000Z');
    expect(nextRun(r, new Date('2026-11-30T00:00:00Z'), NOW)?.toISOString()).toBe('2026-12-01T00:05:00.000Z');
  });

  it.each([
    ['rate(90s)', 90],
    ['rate(2h)', 7200],
    ['rate(1d)', 86_400],
    ['RATE(1H)', 3600],
  ])('%s is %d s', (text, seconds) => {
    expect(parseFrequency(text, { now: NOW, timeoutSeconds: 10 })).toMatchObject({ kind: 'rate', intervalSeconds: seconds });
  });

  it('is 60 s to 7 days: rate(60s) and rate(7d) pass, rate(59s) and rate(10081m) do not', () => {
    expect(parseFrequency('rate(60s)', { now: NOW })).toMatchObject({ intervalSeconds: 60 });
    expect(parseFrequency('rate(7d)', { now: NOW })).toMatchObject({ intervalSeconds: 604_800 });
    expect(refusal('rate(59s)').message).toMatch(/every 59 s; a rate must be at least 60 s/);
    expect(refusal('rate(10081m)').message).toMatch(/at most 7 days \(604800 s\)/);
  });

  it('must be longer than the command Timeout', () => {
    expect(refusal('rate(1m)', { timeoutSeconds: 60 }).message).toMatch(/not longer than the command's Timeout of 60 s/);
    expect(parseFrequency('rate(1m)', { now: NOW, timeoutSeconds: 59 })).toMatchObject({ intervalSeconds: 60 });
  });

  it.each(['rate(5x)', 'rate(5m', 'rate(1.5h)', 'rate(-5m)', 'rate()', 'rate(m)'])('refuses %s, saying what is wrong', (text) => {
    expect(refusal(text).message).toContain(text);
  });
});

describe('at(...)', () => {
  it('at(2027-06-06 13:15:30 Asia/Shanghai) is 05:15:30 UTC, once', () => {
    const r = parseFrequency('at(2027-06-06 13:15:30 Asia/Shanghai)', { now: NOW });
    expect(r).toMatchObject({ kind: 'at', timeZone: 'Asia/Shanghai' });
    expect(runs(r, 3)).toEqual(['2027-06-06T05:15:30.000Z', null]);
  });

  it.each([
    ['at(2027-06-06 13:15:30)', '2027-06-06T13:15:30.000Z'], // no zone: UTC
    ['at(2027-06-06 13:15:30 UTC)', '2027-06-06T13:15:30.000Z'],
    ['at(2027-06-06 13:15:30 GMT+8:00)', '2027-06-06T05:15:30.000Z'],
    ['at(2027-06-06 13:15:30 GMT-7:00)', '2027-06-06T20:15:30.000Z'],
    ['at(2027-06-06 13:15:30 GMT+5:30)', '2027-06-06T07:45:30.000Z'],
  ])('%s fires at %s', (text, iso) => {
    expect(runs(parseFrequency(text, { now: NOW }), 1)).toEqual([iso]);
  });

  it('must lie after now', () => {
    expect(refusal('at(2020-01-01 00:00:00 UTC)').message).toMatch(/has passed: 2020-01-01T00:00:00Z is not after now \(2026-12-01T00:00:00Z\)/);
    expect(refusal('at(2026-12-01 00:00:00 UTC)').message).toMatch(/has passed/);
    expect(parseFrequency('at(2026-12-01 00:00:01 UTC)', { now: NOW })).toMatchObject({ kind: 'at' });
  });

  it.each([
    ['at(2027-02-30 00:00:00)', /not a date and time that exists/],
    ['at(2027-06-06 24:00:00)', /not a date and time that exists/],
    ['at(tomorrow)', /not an at expression/],
    ['at(2027-6-6 13:15:30)', /is not yyyy-MM-dd HH:mm:ss/],
    ['at(2027-06-06 13:15:30 Mars/Olympus)', /the time zone "Mars\/Olympus" is not an IANA name/],
    ['at(2027-06-06 13:15:30 GMT+8)', /the time zone "GMT\+8"/],
    ['at(2027-06-06 13:15:30 GMT+15:00)', /the time zone "GMT\+15:00"/],
    ['at(2027-06-06 13:15:30 +08:00)', /the time zone "\+08:00"/],
  ])('refuses %s', (text, why) => {
    expect(refusal(text).message).toMatch(why);
  });
});

describe('cron', () => {
  it('0 15 10 ? * * 2027 GMT+8:00: 10:15 at UTC+8 every day of 2027, then never', () => {
    const r = parseFrequency('0 15 10 ? * * 2027 GMT+8:00', { now: NOW, timeoutSeconds: 60 });
    expect(r).toMatchObject({ kind: 'cron', timeZone: 'GMT+8:00' });
    expect(runs(r, 2)).toEqual(['2027-01-01T02:15:00.000Z', '2027-01-02T02:15:00.000Z']);
    expect(runs(r, 2, new Date('2027-12-31T02:15:00Z'))).toEqual([null]);
  });

  it('the seeds\' example 0 */20 * * * ? fires every 20 minutes; without a zone it uses the instance\'s', () => {
    expect(runs(parseFrequency('0 */20 * * * ?', { now: NOW }), 2)).toEqual(['2026-12-01T00:20:00.000Z', '2026-12-01T00:40:00.000Z']);
    const tokyo = parseFrequency('0 0 9 * * ?', { now: NOW, instanceTimeZone: 'Asia/Tokyo' });
    expect(tokyo).toMatchObject({ timeZone: 'Asia/Tokyo' });
    // NOW is 09:00 in Tokyo: the next run is 09:00 the day after
    expect(runs(tokyo, 1)).toEqual(['2026-12-02T00:00:00.000Z']);
  });

  it('reads Quartz a/n steps: 0 0/30 10-11 * * ? 2027 GMT+8:00 fires at :00 and :30 of 10 and 11 o\'clock', () => {
    const r = parseFrequency('0 0/30 10-11 * * ? 2027 GMT+8:00', { now: NOW });
    expect(runs(r, 5)).toEqual([
      '2027-01-01T02:00:00.000Z',
      '2027-01-01T02:30:00.000Z',
      '2027-01-01T03:00:00.000Z',
      '2027-01-01T03:30:00.000Z',
      '2027-01-02T02:00:00.000Z',
    ]);
  });

  it('a year step: 0 0/5 14 * 10 ? 2027/2 UTC fires in October 2027, then October 2029', () => {
    const r = parseFrequency('0 0/5 14 * 10 ? 2027/2 UTC', { now: NOW });
    expect(runs(r, 1)).toEqual(['2027-10-01T14:00:00.000Z']);
    expect(runs(r, 1, new Date('2027-10-31T14:55:00Z'))).toEqual(['2029-10-01T14:00:00.000Z']);
  });

  it('numbers week days 1 = Monday to 7 = Sunday, and takes MON-SUN', () => {
    expect(runs(parseFrequency('0 0 12 ? * 1', { now: NOW }), 1)).toEqual(['2026-12-07T12:00:00.000Z']); // Monday
    expect(runs(parseFrequency('0 0 12 ? * 7', { now: NOW }), 1)).toEqual(['2026-12-06T12:00:00.000Z']); // Sunday
    expect(runs(parseFrequency('0 0 12 ? * WED', { now: NOW }), 1)).toEqual(['2026-12-02T12:00:00.000Z']);
    expect(runs(parseFrequency('0 15 10 ? * 5L', { now: NOW }), 1)).toEqual(['2026-12-25T10:15:00.000Z']); // last Friday
    expect(runs(parseFrequency('0 15 10 ? * 5#3', { now: NOW }), 1)).toEqual(['2026-12-18T10:15:00.000Z']); // third Friday
    expect(runs(parseFrequency('0 15 10 L * ?', { now: NOW }), 1)).toEqual(['2026-12-31T10:15:00.000Z']);
    expect(refusal('0 15 10 ? * 0').message).toMatch(/the week field "0" has 0, outside 1-7/);
  });

  it('takes one leading zero, not two', () => {
    expect(runs(parseFrequency('0 15 08 ? * *', { now: NOW }), 1)).toEqual(['2026-12-01T08:15:00.000Z']);
    expect(refusal('0 15 008 ? * *').message).toMatch(/the hour field "008" has more than one leading zero/);
  });

  it('takes years up to 2099 and refuses a schedule that never fires again', () => {
    expect(refusal('0 0 0 1 1 ? 2100').message).toMatch(/the year field "2100" has 2100, outside 1970-2099/);
    expect(refusal('0 0 0 1 1 ? 2020').message).toMatch(/never fires after now/);
    expect(refusal('0 0 0 30 2 ?').message).toMatch(/never fires after now/);
  });

  it('runs at least 10 s apart, and at least Timeout apart', () => {
    expect(refusal('*/5 * * * * *', { timeoutSeconds: 1 }).message).toMatch(/fires 5 s apart; runs must be at least 10 s apart/);
    expect(parseFrequency('*/10 * * * * *', { now: NOW, timeoutSeconds: 1 })).toMatchObject({ kind: 'cron' });
    expect(refusal('0 * * * * *', { timeoutSeconds: 61 }).message).toMatch(/fires 60 s apart, less than the command's Timeout of 61 s/);
    expect(parseFrequency('0 * * * * *', { now: NOW, timeoutSeconds: 60 })).toMatchObject({ kind: 'cron' });
  });

  it.each([
    ['60 * * * * *', /the second field "60" has 60, outside 0-59/],
    ['0 15 10 ? 13 *', /the month field "13"/],
    ['0 15 10 0 * ?', /the day field "0"/],
    ['0 15 10 ? * 8', /the week field "8"/],
    ['0 15 10 ? * FOO', /has "FOO", which the field does not take/],
    ['0 */0 * * * ?', /has a step of 0/],
    ['0 15 10 ? * * Mars/Olympus', /the time zone "Mars\/Olympus"/],
    ['0 15 10 ? *', /this has 5 part\(s\)/],
    ['0 15 10 ? * * 2027 UTC extra', /this has 9 part\(s\)/],
    ['every tuesday', /is not rate\(\.\.\.\), at\(\.\.\.\) or a cron expression/],
    ['', /The Frequency is empty/],
    ['   ', /The Frequency is empty/],
  ])('refuses %j', (text, why) => {
    expect(refusal(text).message).toMatch(why);
  });
});
