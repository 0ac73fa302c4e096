import { describe, it, expect } from 'vitest';
import { ApiError } from '../../shared/cloud-assistant/errors.ts';
import { nextRun, parseFrequency, type Frequency, type FrequencyOptions } from '../../shared/cloud-assistant/frequency.ts';

// Fixed so that the documents' 2022 examples have expired and 2027 ones lie ahead.
const now = new Date('2026-11-23T00:00:00Z');

function parse(expression: string, options: FrequencyOptions = {}): Frequency {
  return parseFrequency(expression, { now, ...options });
}

/** Asserts the rejection code and returns the message so a test can check it names the problem. */
function rejection(expression: string, options: FrequencyOptions = {}): string {
  try {
    parse(expression, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('InvalidParam.Frequency');
    expect((e as ApiError).httpStatus).toBe(400);
    return (e as ApiError).message;
  }
  throw new Error(`"${expression}" was accepted`);
}

const utc = (s: string): Date => new Date(s);

describe('parseFrequency: rate', () => {
  it('reads the documented example rate(5m)', () => {
    expect(parse('rate(5m)')).toEqual({ kind: 'rate', expression: 'rate(5m)', intervalSeconds: 300 });
  });

  it('reads every unit', () => {
    expect(parse('rate(90s)')).toMatchObject({ intervalSeconds: 90 });
    expect(parse('rate(2h)')).toMatchObject({ intervalSeconds: 7_200 });
    expect(parse('rate(1d)')).toMatchObject({ intervalSeconds: 86_400 });
  });

  it('reads the keyword and unit in any case, as the agent does', () => {
    expect(parse('RATE(5M)')).toMatchObject({ kind: 'rate', intervalSeconds: 300 });
  });

  it('rejects 59 s and accepts 60 s when Timeout is shorter', () => {
    expect(rejection('rate(59s)', { timeoutSeconds: 30 })).toMatch(/rate\(59s\) is 59 s, shorter than the 60 s minimum/);
    expect(parse('rate(60s)', { timeoutSeconds: 30 })).toMatchObject({ intervalSeconds: 60 });
  });

  it('accepts 7 days and rejects 8 days', () => {
    expect(parse('rate(7d)')).toMatchObject({ intervalSeconds: 604_800 });
    expect(parse('rate(168h)')).toMatchObject({ intervalSeconds: 604_800 });
    expect(rejection('rate(8d)')).toMatch(/691200 s, longer than the 7-day \(604800 s\) maximum/);
    expect(rejection('rate(10081m)')).toMatch(/maximum/);
  });

  it('rejects an interval not longer than Timeout', () => {
    // The default Timeout is 60 s, so a one-minute rate equals it.
    expect(rejection('rate(1m)')).toMatch(/not longer than the command's Timeout of 60 s/);
    expect(rejection('rate(10m)', { timeoutSeconds: 600 })).toMatch(/Timeout of 600 s/);
    expect(rejection('rate(10m)', { timeoutSeconds: 3_600 })).toMatch(/Timeout of 3600 s/);
    expect(parse('rate(10m)', { timeoutSeconds: 599 })).toMatchObject({ intervalSeconds: 600 });
  });

  it('rejects an unknown unit, a missing number and an unclosed parenthesis', () => {
    expect(rejection('rate(5w)')).toMatch(/unit "w".*s, m, h or d/);
    expect(rejection('rate(m)')).toMatch(/rate\(<whole number><s\|m\|h\|d>\)/);
    expect(rejection('rate(1.5h)')).toMatch(/not a rate expression/);
    expect(rejection('rate()')).toMatch(/not a rate expression/);
    expect(rejection('rate(5m')).toMatch(/not closed/);
  });
});

describe('parseFrequency: at', () => {
  it('rejects the documented example, which is in the past', () => {
    expect(rejection('at(2022-06-06 13:15:30 Asia/Shanghai)')).toMatch(/expired: 2022-06-06T05:15:30Z is not after now/);
  });

  it('converts an IANA zone to the UTC instant', () => {
    expect(parse('at(2027-06-06 13:15:30 Asia/Shanghai)')).toEqual({
      kind: 'at',
      expression: 'at(2027-06-06 13:15:30 Asia/Shanghai)',
      at: utc('2027-06-06T05:15:30Z'),
      timeZone: 'Asia/Shanghai',
    });
    // Daylight-saving time applies: New York is UTC-4 in June and UTC-5 in January.
    expect(parse('at(2027-06-06 13:15:30 America/New_York)')).toMatchObject({ at: utc('2027-06-06T17:15:30Z') });
    expect(parse('at(2027-01-06 13:15:30 America/New_York)')).toMatchObject({ at: utc('2027-01-06T18:15:30Z') });
  });

  it('converts GMT offsets, with and without a leading zero', () => {
    expect(parse('at(2027-06-06 13:15:30 GMT+8:00)')).toMatchObject({ at: utc('2027-06-06T05:15:30Z'), timeZone: 'GMT+8:00' });
    expect(parse('at(2027-06-06 13:15:30 GMT+08:00)')).toMatchObject({ at: utc('2027-06-06T05:15:30Z') });
    expect(parse('at(2027-06-06 13:15:30 GMT-7:00)')).toMatchObject({ at: utc('2027-06-06T20:15:30Z'), timeZone: 'GMT-7:00' });
    expect(parse('at(2027-06-06 13:15:30 GMT+5:30)')).toMatchObject({ at: utc('2027-06-06T07:45:30Z') });
  });

  it('reads UTC, and no zone as UTC', () => {
    expect(parse('at(2027-06-06 13:15:30 UTC)')).toMatchObject({ at: utc('2027-06-06T13:15:30Z'), timeZone: 'UTC' });
    expect(parse('at(2027-06-06 13:15:30)')).toMatchObject({ at: utc('2027-06-06T13:15:30Z'), timeZone: 'UTC' });
  });

  it('moves a local time skipped by daylight saving forward, as croner does for cron runs', () => {
    // Berlin jumps from 02:00 to 03:00 on 2027-03-28, so 02:30 is read as 03:30 CEST.
    expect(parse('at(2027-03-28 02:30:00 Europe/Berlin)')).toMatchObject({ at: utc('2027-03-28T01:30:00Z') });
  });

  it('rejects a time that is not after now', () => {
    expect(rejection('at(2026-11-22 23:59:59)')).toMatch(/expired/);
    expect(rejection('at(2026-11-23 00:00:00)')).toMatch(/not after now \(2026-11-23T00:00:00Z\)/);
    // 07:59:59 in Shanghai is still before midnight UTC.
    expect(rejection('at(2026-11-23 07:59:59 Asia/Shanghai)')).toMatch(/expired/);
    expect(parse('at(2026-11-23 08:00:01 Asia/Shanghai)')).toMatchObject({ at: utc('2026-11-23T00:00:01Z') });
  });

  it('rejects an unknown zone, naming it', () => {
    expect(rejection('at(2027-06-06 13:15:30 Mars/Olympus)')).toMatch(/"Mars\/Olympus" is not an IANA name/);
    expect(rejection('at(2027-06-06 13:15:30 GMT+8)')).toMatch(/"GMT\+8".*GMT\+8:00/);
    expect(rejection('at(2027-06-06 13:15:30 GMT+15:00)')).toMatch(/offset "GMT\+15:00" is out of range/);
    expect(rejection('at(2027-06-06 13:15:30 +08:00)')).toMatch(/"\+08:00" is not/);
  });

  it('rejects malformed and impossible date-times', () => {
    expect(rejection('at(2027-06-06 13:15)')).toMatch(/at\(yyyy-MM-dd HH:mm:ss <time zone>\)/);
    expect(rejection('at(2027-6-6 13:15:30)')).toMatch(/not an at expression/);
    expect(rejection('at(2027-02-30 13:15:30)')).toMatch(/2027-02-30 13:15:30 is not a real date and time/);
    expect(rejection('at(2027-06-06 24:00:00)')).toMatch(/hour 24 is out of range/);
    expect(rejection('at(2027-06-06 23:60:00)')).toMatch(/not a real date and time/);
    expect(rejection('at(2027-06-06 13:15:30 UTC extra)')).toMatch(/"extra" after the time zone/);
  });
});

describe('parseFrequency: cron', () => {
  it('reads the API example 0 */20 * * * * in the default zone', () => {
    expect(parse('0 */20 * * * *')).toEqual({
      kind: 'cron',
      expression: '0 */20 * * * *',
      pattern: '0 */20 * * * *',
      timeZone: 'UTC',
    });
    expect(parse('0 */20 * * * ?')).toMatchObject({ kind: 'cron' });
  });

  it('uses the instance zone when the expression names none', () => {
    expect(parse('0 0 3 * * ?', { defaultTimeZone: 'Asia/Shanghai' })).toMatchObject({ timeZone: 'Asia/Shanghai' });
  });

  it('rejects the documented 2022 examples as expired', () => {
    for (const expression of [
      '0 15 10 ? * * 2022 Asia/Shanghai',
      '0 0/30 10-11 * * ? 2022 GMT+8:00',
    ]) {
      expect(rejection(expression)).toMatch(/has expired: its year field "2022" allows no run after now/);
    }
  });

  it('accepts the documented examples with a future year', () => {
    expect(parse('0 15 10 ? * * 2027 Asia/Shanghai')).toMatchObject({ pattern: '0 15 10 ? * * 2027', timeZone: 'Asia/Shanghai' });
    // croner refuses Quartz's "0/30", so it is passed on as the equivalent range "0-59/30".
    expect(parse('0 0/30 10-11 * * ? 2027 GMT+8:00')).toMatchObject({ pattern: '0 0-59/30 10-11 * * ? 2027', timeZone: 'GMT+8:00' });
  });

  it('accepts 0 0/5 14 * 10 ? 2022/2 UTC, whose year step reaches beyond now', () => {
    // 2022/2 means 2022, 2024, …, so October 2028 is its next month.
    const f = parse('0 0/5 14 * 10 ? 2022/2 UTC');
    expect(f).toMatchObject({ pattern: '0 0-59/5 14 * 10 ? 2022-2099/2', timeZone: 'UTC' });
    expect(nextRun(f, now, now)).toEqual(utc('2028-10-01T14:00:00Z'));
  });

  it('rejects runs less than 10 s apart', () => {
    expect(rejection('*/5 * * * * *')).toMatch(/fires only 5 s apart .*at least 10 s apart/);
    expect(rejection('0,5 0 0 1 1 ?', { timeoutSeconds: 1 })).toMatch(/5 s apart/);
  });

  it('rejects runs closer together than Timeout', () => {
    expect(rejection('*/30 * * * * *')).toMatch(/30 s apart .*Timeout of 60 s/);
    expect(rejection('0 */20 * * * *', { timeoutSeconds: 3_600 })).toMatch(/1200 s apart .*Timeout of 3600 s/);
    expect(parse('*/30 * * * * *', { timeoutSeconds: 30 })).toMatchObject({ kind: 'cron' });
    expect(parse('*/10 * * * * *', { timeoutSeconds: 10 })).toMatchObject({ kind: 'cron' });
    // Half-hour runs inside 10-11 o'clock then a 22.5-hour pause: the tightest gap counts.
    expect(rejection('0 0/30 10-11 * * ? 2027', { timeoutSeconds: 3_600 })).toMatch(/1800 s apart/);
  });

  it('rejects a bad field, naming it', () => {
    expect(rejection('0 61 * * * *')).toMatch(/minutes field "61" is not valid/);
    expect(rejection('0 0 0 * 13 ?')).toMatch(/month field "13" is not valid \(month takes 1-12/);
    expect(rejection('0 0 0 ? * 8')).toMatch(/day-of-week field "8"/);
    expect(rejection('0 0 0 * * * 2100')).toMatch(/year field "2100" names 2100, after 2099/);
    expect(rejection('0 0 0 * * * 2027-2100/3')).toMatch(/names 2100/);
    expect(parse('0 0 0 1 1 ? 2099')).toMatchObject({ pattern: '0 0 0 1 1 ? 2099' });
    expect(rejection('0 008 * * * *')).toMatch(/minutes field "008" has more than one leading zero/);
  });

  it('rejects a bad zone, naming it', () => {
    expect(rejection('0 0 0 * * * 2027 Bad/Zone')).toMatch(/"Bad\/Zone" is not an IANA name/);
    expect(rejection('0 0 0 * * * Bad/Zone')).toMatch(/"Bad\/Zone"/);
  });

  it('rejects a pattern that matches no date', () => {
    expect(rejection('0 0 0 30 2 ?')).toMatch(/never fires.*day-of-month, month and day-of-week/);
    expect(rejection('0 0 0 29 2 ? 2027')).toMatch(/never fires.*and year fields/);
  });

  it('rejects the wrong number of fields', () => {
    expect(rejection('0 0 * * *')).toMatch(/has 5 parts/);
    expect(rejection('0 0 0 * * * 2027 UTC extra')).toMatch(/has 9 parts/);
  });
});

describe('parseFrequency: garbage', () => {
  it.each(['', '   ', 'hello', 'every 5 minutes please', 'cron(0 * * * * *)', 'at', 'rate'])('rejects %j', (expression) => {
    rejection(expression);
  });
});

describe('nextRun', () => {
  it('rate: created + k × interval, strictly after `after`', () => {
    const f = parse('rate(5m)');
    const created = utc('2026-11-23T00:00:10Z');
    expect(nextRun(f, created, created)).toEqual(utc('2026-11-23T00:05:10Z'));
    expect(nextRun(f, utc('2026-11-23T00:05:09Z'), created)).toEqual(utc('2026-11-23T00:05:10Z'));
    expect(nextRun(f, utc('2026-11-23T00:05:10Z'), created)).toEqual(utc('2026-11-23T00:10:10Z'));
    expect(nextRun(f, utc('2026-11-23T01:00:00Z'), created)).toEqual(utc('2026-11-23T01:00:10Z'));
    // Nothing fires before the task exists.
    expect(nextRun(f, utc('2026-11-01T00:00:00Z'), created)).toEqual(utc('2026-11-23T00:05:10Z'));
  });

  it('at: the instant once, then null', () => {
    const f = parse('at(2027-06-06 13:15:30 Asia/Shanghai)');
    expect(nextRun(f, now, now)).toEqual(utc('2027-06-06T05:15:30Z'));
    expect(nextRun(f, utc('2027-06-06T05:15:29Z'), now)).toEqual(utc('2027-06-06T05:15:30Z'));
    expect(nextRun(f, utc('2027-06-06T05:15:30Z'), now)).toBeNull();
  });

  it('cron: the next match strictly after `after`', () => {
    const f = parse('0 */20 * * * *');
    expect(nextRun(f, now, now)).toEqual(utc('2026-11-23T00:20:00Z'));
    expect(nextRun(f, utc('2026-11-23T00:19:59.999Z'), now)).toEqual(utc('2026-11-23T00:20:00Z'));
    expect(nextRun(f, utc('2026-11-23T00:20:00Z'), now)).toEqual(utc('2026-11-23T00:40:00Z'));
  });

  it('cron with Asia/Shanghai: 10:15 in Shanghai is 02:15 UTC', () => {
    const f = parse('0 15 10 ? * * 2027 Asia/Shanghai');
    expect(nextRun(f, now, now)).toEqual(utc('2027-01-01T02:15:00Z'));
    expect(nextRun(f, utc('2027-01-01T02:15:00Z'), now)).toEqual(utc('2027-01-02T02:15:00Z'));
  });

  it('cron with a GMT offset, with the instance zone, and with daylight-saving time', () => {
    expect(nextRun(parse('0 0/30 10-11 * * ? 2027 GMT+8:00'), now, now)).toEqual(utc('2027-01-01T02:00:00Z'));
    expect(nextRun(parse('0 0 9 * * ? GMT-7:00'), now, now)).toEqual(utc('2026-11-23T16:00:00Z'));
    expect(nextRun(parse('0 0 3 * * ?', { defaultTimeZone: 'Asia/Shanghai' }), now, now)).toEqual(utc('2026-11-23T19:00:00Z'));
    const berlin = parse('0 0 12 ? * * Europe/Berlin');
    expect(nextRun(berlin, now, now)).toEqual(utc('2026-11-23T11:00:00Z'));
    expect(nextRun(berlin, utc('2027-07-01T00:00:00Z'), now)).toEqual(utc('2027-07-01T10:00:00Z'));
  });

  it('cron weekdays count 1 = Monday … 7 = Sunday, as Cloud Assistant does', () => {
    // 2026-11-23 is a Monday.
    expect(nextRun(parse('0 0 12 ? * 1'), now, now)).toEqual(utc('2026-11-23T12:00:00Z'));
    expect(nextRun(parse('0 0 12 ? * 7'), now, now)).toEqual(utc('2026-11-29T12:00:00Z'));
    expect(nextRun(parse('0 0 12 ? * WED'), now, now)).toEqual(utc('2026-11-25T12:00:00Z'));
  });

  it('cron bounded by year: null after its last run', () => {
    const f = parse('0 15 10 ? * * 2027 Asia/Shanghai');
    expect(nextRun(f, utc('2027-12-31T02:14:59Z'), now)).toEqual(utc('2027-12-31T02:15:00Z'));
    expect(nextRun(f, utc('2027-12-31T02:15:00Z'), now)).toBeNull();
    const stepped = parse('0 0/5 14 * 10 ? 2022/2 UTC');
    expect(nextRun(stepped, utc('2098-10-31T14:50:00Z'), now)).toEqual(utc('2098-10-31T14:55:00Z'));
    expect(nextRun(stepped, utc('2098-10-31T14:55:00Z'), now)).toBeNull();
  });

  it('cron: nothing fires before the task exists', () => {
    const f = parse('0 */20 * * * *');
    expect(nextRun(f, utc('2026-01-01T00:00:00Z'), utc('2026-11-23T00:30:00Z'))).toEqual(utc('2026-11-23T00:40:00Z'));
  });
});
