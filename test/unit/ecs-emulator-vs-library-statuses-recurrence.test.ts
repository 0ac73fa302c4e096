/**
 * The library (shared/cloud-assistant) and the local Cloud Assistant (local/ecs) each have their own status rules and
 * Frequency reading. The same inputs go through both; they must agree, so a wrong rule on one side shows up here
 * instead of being enforced on both.
 */
import { describe, expect, it } from 'vitest';
import * as library from '../../shared/cloud-assistant/statuses.ts';
import { nextRun as libraryNextRun, parseFrequency as libraryParse } from '../../shared/cloud-assistant/frequency.ts';
import * as emulator from '../../local/ecs/statuses.ts';
import { nextRun as emulatorNextRun, parseFrequency as emulatorParse } from '../../local/ecs/recurrence.ts';

const STATUSES = emulator.INSTANCE_STATUSES;

/** Every multiset of 1 to `size` statuses. */
function mixes(size: number): emulator.InstanceStatus[][] {
  const out: emulator.InstanceStatus[][] = [];
  const walk = (from: number, mix: emulator.InstanceStatus[]): void => {
    if (mix.length > 0) out.push(mix);
    if (mix.length === size) return;
    for (let i = from; i < STATUSES.length; i++) walk(i, [...mix, STATUSES[i] as emulator.InstanceStatus]);
  };
  walk(0, []);
  return out;
}

describe('status rules: library and emulator agree', () => {
  it('both know the same twelve per-instance statuses', () => {
    expect([...library.INSTANCE_STATUSES].sort()).toEqual([...STATUSES].sort());
  });

  it.each(STATUSES)('%s: the same finality and InvokeRecordStatus', (status) => {
    expect(emulator.isFinal(status)).toBe(library.isFinal(status));
    expect(emulator.invokeRecordStatus(status)).toBe(library.invokeRecordStatus(status));
  });

  it('the same overall InvocationStatus and legacy InvokeStatus for every mix of up to four instances', () => {
    const all = mixes(4);
    expect(all.length).toBe(1819); // C(12+4, 4) - 1 multisets: the walk really covers them all
    const disagreements = all.flatMap((mix) => {
      const ours = emulator.overallStatus(mix);
      const theirs = library.overallStatus(mix);
      const legacy = [emulator.legacyInvokeStatus(ours), library.legacyInvokeStatus(theirs)];
      return ours === theirs && legacy[0] === legacy[1] ? [] : [{ mix, emulator: [ours, legacy[0]], library: [theirs, legacy[1]] }];
    });
    expect(disagreements).toEqual([]);
  });

  it('the same answer in whatever order the instances are listed', () => {
    const mix: emulator.InstanceStatus[] = ['Scheduled', 'Success', 'Running', 'Timeout'];
    for (const order of [mix, [...mix].reverse(), [mix[2], mix[0], mix[3], mix[1]] as emulator.InstanceStatus[]]) {
      expect(emulator.overallStatus(order)).toBe('Running');
      expect(library.overallStatus(order)).toBe('Running');
    }
  });
});

const NOW = new Date('2026-12-01T00:00:00Z');

/** Frequencies from the seeds and the documents, valid and not, with the command's Timeout each is checked against. */
const FREQUENCIES: [string, number][] = [
  ['rate(5m)', 60], ['rate(1m)', 30], ['rate(60s)', 30], ['rate(59s)', 30], ['rate(1m)', 60], ['rate(1m)', 120],
  ['rate(7d)', 60], ['rate(168h)', 60], ['rate(8d)', 60], ['rate(0m)', 60], ['rate(5x)', 60], ['rate(5m', 60], ['RATE(2H)', 60],
  ['rate( 5m )', 60], ['rate(1.5h)', 60], ['rate(-5m)', 60],
  ['at(2027-06-06 13:15:30 Asia/Shanghai)', 60], ['at(2027-06-06 13:15:30)', 60], ['at(2027-06-06 13:15:30 GMT+8:00)', 60],
  ['at(2027-06-06 13:15:30 GMT-7:00)', 60], ['at(2027-06-06 13:15:30 UTC)', 60], ['at(2020-01-01 00:00:00 UTC)', 60],
  ['at(2026-12-01 00:00:00 UTC)', 60], ['at(2027-02-30 00:00:00)', 60], ['at(2027-06-06 24:00:00)', 60], ['at(tomorrow)', 60],
  ['at(2027-06-06 13:15:30 Mars/Olympus)', 60], ['at(2027-06-06 13:15:30 GMT+8)', 60], ['at(2027-06-06 13:15:30 +08:00)', 60],
  ['at(2027-06-06 13:15:30 GMT+15:00)', 60], ['at(2027-06-06 13:15:30 GMT+8:60)', 60],
  ['0 */20 * * * ?', 60], ['0 */20 * * * *', 60], ['0 15 10 ? * * 2027 GMT+8:00', 60], ['0 15 10 ? * * 2027 Asia/Shanghai', 60],
  ['0 0/30 10-11 * * ? 2027 GMT+8:00', 60], ['0 0/5 14 * 10 ? 2027/2 UTC', 60], ['0 15 10 ? * * Asia/Tokyo', 60],
  ['0 15 10 L * ?', 60], ['0 15 10 ? * 5L', 60], ['0 15 10 ? * 6#3', 60], ['0 0 12 ? * WED', 60], ['0 10,44 14 ? 3 WED', 60],
  ['0 15 10 15W * ?', 60], ['0 15 08 ? * *', 60], ['0 15 008 ? * *', 60], ['0 0 0 1 1 ? 2020', 60], ['0 0 0 1 1 ? 2100', 60],
  ['0 0 0 1 1 ? 2027-2100', 60], ['0 0 0 30 2 ?', 60], ['* * * * * *', 60], ['*/5 * * * * *', 1], ['*/10 * * * * *', 1], ['*/10 * * * * *', 60],
  ['0 * * * * *', 60], ['0 * * * * *', 61], ['60 * * * * *', 60], ['0 15 10 ? * 0', 60], ['0 15 10 ? * 7', 60], ['0 15 10 ? * 8', 60],
  ['0 15 10 ? 13 *', 60], ['0 15 10 0 * ?', 60], ['0 15 10 ? * * GMT+8', 60], ['0 15 10 ? * * Mars/Olympus', 60],
  ['0 15 10 ? * SUN', 60], ['0 15 10 ? * MON-FRI', 60], ['0 15 10 ? * 1-7', 60], ['0 15 10 ? * mon', 60], ['0 15 10 ? jan-mar MON', 60],
  ['0 15 10 * * MON', 60], ['0 15 10 LW * ?', 60], ['0 15 10 ? * L', 60], ['0 0 0 ? * * 2026', 60], ['0 0 0 1 1 ? 2026', 60],
  ['0 0/5 14 * 10 ? 2027/0', 60], ['0 */0 * * * ?', 60], ['0 5-1 * * * ?', 60], ['0 0 0 ? * * 2027 GMT-12:00', 60],
  ['0 0 0 ? * * 2027 GMT-13:00', 60], ['0 0 0 ? * * 2027 GMT+14:00', 60], ['0 0 0 ? * * 2027 GMT+08:00', 60], ['0 0 0 ? * * Etc/GMT+8', 60],
  ['0 0 0 ? * * EST', 60], ['0 0 0 ? * * utc', 60], ['0 0 0 ? * * 2027 GMT+5:30', 60], ['0 0 0 ? * * America/New_York', 60],
  ['0 30 2 ? * * America/New_York', 60], ['0 0 0 ? * * 2027,2030', 60], ['0 0 0 ? * * */2', 60], ['0 0 0 ? * * 2027-2030/2', 60],
  ['at(2027-06-06 13:15:30 GMT+08:00)', 60], ['at(2027-06-06 13:15:30 utc)', 60], ['at( 2027-06-06 13:15:30 )', 60],
  ['at(2027-6-6 13:15:30)', 60], ['at(2027-06-06T13:15:30)', 60], ['at(2027-03-14 02:30:00 America/New_York)', 60],
  ['rate(10080m)', 60], ['rate(10081m)', 60], ['rate(01m)', 60], ['rate(604800s)', 60], ['rate(1M)', 60], ['rate(1 m)', 60],
  ['0 15 10 ? * 0L', 60], ['0 15 10 ? * 07', 60], ['0 15 10 ? * 0-6', 60], ['0 15 10 ? * 5#0', 60], ['0 15 10 ? * 1,0', 60],
  ['0 15 10 ? *', 60], ['0 15 10 ? * * 2027 UTC extra', 60], ['every tuesday', 60], ['', 60], [' ', 60],
];

function outcome(parse: () => unknown): string {
  try {
    parse();
    return 'accepted';
  } catch {
    return 'refused';
  }
}

describe('Frequency: library and emulator agree', () => {
  it.each(FREQUENCIES)('%s (Timeout %d s): both accept or both refuse', (text, timeoutSeconds) => {
    const ours = outcome(() => emulatorParse(text, { now: NOW, timeoutSeconds }));
    const theirs = outcome(() => libraryParse(text, { now: NOW, timeoutSeconds }));
    expect(ours, `the emulator ${ours} "${text}", the library ${theirs} it`).toBe(theirs);
  });

  const accepted = FREQUENCIES.filter(([text, timeoutSeconds]) => outcome(() => emulatorParse(text, { now: NOW, timeoutSeconds })) === 'accepted');

  it('the comparison includes schedules both accept', () => {
    expect(accepted.length).toBeGreaterThan(20);
  });

  it.each(accepted)('%s: the same next ten run times', (text, timeoutSeconds) => {
    const ours = emulatorParse(text, { now: NOW, timeoutSeconds });
    const theirs = libraryParse(text, { now: NOW, timeoutSeconds });
    const runs = (next: (after: Date) => Date | null): (string | null)[] => {
      const out: (string | null)[] = [];
      let after = new Date(NOW.getTime() - 3_600_000); // before creation: nothing fires before the task exists
      for (let i = 0; i < 10; i++) {
        const run = next(after);
        out.push(run?.toISOString() ?? null);
        if (!run) break;
        after = run;
      }
      return out;
    };
    expect(runs((after) => emulatorNextRun(ours, after, NOW))).toEqual(runs((after) => libraryNextRun(theirs, after, NOW)));
  });
});

describe('what this comparison found', () => {
  it('the library took week day 0 (croner\'s Sunday); the cron expressions page numbers week days 1-7, so both refuse it', () => {
    expect(() => libraryParse('0 15 10 ? * 0', { now: NOW })).toThrow(/day-of-week field "0" names day 0/);
    expect(() => libraryParse('0 15 10 ? * 1-0', { now: NOW })).toThrow(/names day 0/);
    expect(() => emulatorParse('0 15 10 ? * 0', { now: NOW })).toThrow(/the week field "0" has 0, outside 1-7/);
    // 07 is Sunday with one leading zero, and # counts occurrences, not days
    expect(libraryParse('0 15 10 ? * 07', { now: NOW })).toMatchObject({ kind: 'cron' });
    expect(emulatorParse('0 15 10 ? * 07', { now: NOW })).toMatchObject({ kind: 'cron' });
  });

  it('an offset of GMT-13:00 is within ±14:00 on both sides (no document bounds it further)', () => {
    expect(libraryParse('0 0 0 ? * * 2027 GMT-13:00', { now: NOW })).toMatchObject({ kind: 'cron' });
    expect(emulatorParse('0 0 0 ? * * 2027 GMT-13:00', { now: NOW })).toMatchObject({ kind: 'cron' });
  });
});
