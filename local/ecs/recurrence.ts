/**
 * The local Cloud Assistant's own reading of `Frequency` (RunCommand / InvokeCommand), written from the API documents
 * and not from the library, so that the emulator can disagree with the library and a test can see it.
 *
 * Sources, each limit below names its own:
 * - seeds 000 and 001 (InvokeCommand, RunCommand): three forms — a rate expression, a one-off `at` time and a cron
 *   expression; a cron expression may name a time zone, else the instance's system time zone applies. Their example
 *   values `0 *\/20 * * * ?` and `0 *\/20 * * * *`.
 * - seed 002 (RunCommand, older edition): runs of a recurring task are at least 10 s apart.
 * - Alibaba's RunCommand page (current, English; the Japanese seed 001 drops its list items): `rate(5m)` with the units
 *   s, m, h, d, an interval of 60 s to 7 days that must exceed the command's Timeout, the first run one interval after
 *   the task is created; `at(2022-06-06 13:15:30 Asia/Shanghai)` with an optional zone (UTC when none) that must lie in
 *   the future; cron `sec min hour dom month dow [year] [zone]` such as `0 15 10 ? * * 2022 GMT+8:00`, runs at least
 *   Timeout apart; zones written as an IANA name, `GMT+8:00` / `GMT-7:00`, or `UTC`.
 * - Alibaba's "Cron expressions" page for Cloud Assistant: the field table (ranges and special characters), week days
 *   1 = Monday … 7 = Sunday (or MON … SUN), years from the current one to 2099, at most one leading zero per value.
 *
 * croner computes cron run times and luxon reads `at` times; nothing here does calendar arithmetic by hand.
 */
import { Cron, type CronOptions } from 'croner';
import { DateTime, FixedOffsetZone, IANAZone, type Zone } from 'luxon';

/** Why a Frequency is refused; the API answers it as `InvalidParam.Frequency` (seeds 000, 001). */
export class FrequencyError extends Error {
  override name = 'FrequencyError';
}

/**
 * A Frequency the emulator accepted.
 * - `rate`: every `intervalSeconds`, the first run one interval after the task was created.
 * - `at`: once, at `at`.
 * - `cron`: whenever `pattern` (croner's spelling of the expression) matches in the zone `timeZone`.
 */
export type Recurrence =
  | { kind: 'rate'; text: string; intervalSeconds: number }
  | { kind: 'at'; text: string; at: Date; timeZone: string }
  | { kind: 'cron'; text: string; pattern: string; timeZone: string };

export interface FrequencyContext {
  /** When the task is created: `at` times and cron runs must come after it. Default: now. */
  now?: Date;
  /** The command's Timeout (s). A rate must exceed it and cron runs must be this far apart; unchecked when absent. */
  timeoutSeconds?: number;
  /** The instance's system time zone, for a cron expression that names none (seeds 000, 001). Default `UTC`. */
  instanceTimeZone?: string;
}

/** RunCommand page: a rate is 60 s to 7 days. */
const RATE_MIN_SECONDS = 60;
const RATE_MAX_SECONDS = 7 * 24 * 3600;
/** Seed 002: "The interval between two recurring tasks cannot be less than 10 seconds." */
const MIN_GAP_SECONDS = 10;
/** Cron expressions page: years run to 2099. */
const LAST_YEAR = 2099;
/** How many upcoming cron runs are compared to find the shortest gap; enough to cross a minute, hour and day boundary. */
const GAP_SAMPLE = 120;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Special characters the cron expressions page allows in the field, besides digits and names. */
  specials: string;
  names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

const FIELDS: readonly FieldRule[] = [
  { name: 'second', min: 0, max: 59, specials: '*,-/' },
  { name: 'minute', min: 0, max: 59, specials: '*,-/' },
  { name: 'hour', min: 0, max: 23, specials: '*,-/' },
  { name: 'day', min: 1, max: 31, specials: '*,-/?LW' },
  { name: 'month', min: 1, max: 12, specials: '*,-/', names: MONTHS },
  // 1 = Monday … 7 = Sunday is also croner's numbering (it reads 7 as Sunday), so the numbers pass through unchanged.
  { name: 'week', min: 1, max: 7, specials: '*,-/?L#', names: WEEKDAYS },
  { name: 'year', min: 1970, max: LAST_YEAR, specials: '*,-/' },
];

const GMT_ZONE = /^GMT([+-])(\d{1,2}):(\d{2})$/;

function iso(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

interface ZoneReading {
  luxon: Zone;
  croner: Pick<CronOptions, 'timezone' | 'utcOffset'>;
}

/** A zone in one of the three documented spellings, or undefined. */
function readZone(name: string): ZoneReading | undefined {
  if (name === 'UTC') return { luxon: FixedOffsetZone.utcInstance, croner: { utcOffset: 0 } };
  const gmt = GMT_ZONE.exec(name);
  if (gmt) {
    const [, sign, h, m] = gmt as unknown as [string, string, string, string];
    const minutes = (sign === '-' ? -1 : 1) * (Number(h) * 60 + Number(m));
    // No document bounds the offset; ±14:00 is the widest any place on Earth uses, and minutes stop at 59.
    if (Number(m) > 59 || Math.abs(minutes) > 14 * 60) return undefined;
    return { luxon: FixedOffsetZone.instance(minutes), croner: { utcOffset: minutes } };
  }
  // Intl also knows "+08:00" and similar; the documents name zones by region or GMT/UTC only.
  if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name) && IANAZone.isValidZone(name)) {
    return { luxon: IANAZone.create(name), croner: { timezone: name } };
  }
  return undefined;
}

const ZONE_SPELLINGS = 'an IANA name such as Asia/Shanghai, an offset such as GMT+8:00 or GMT-7:00, or UTC';

function zoneOrThrow(text: string, name: string): ZoneReading {
  const zone = readZone(name);
  if (!zone) throw new FrequencyError(`"${text}": the time zone "${name}" is not ${ZONE_SPELLINGS}.`);
  return zone;
}

function parseRate(text: string, body: string, context: FrequencyContext): Recurrence {
  const m = /^\s*(\d+)\s*([a-zA-Z]+)\s*$/.exec(body);
  if (!m) throw new FrequencyError(`"${text}" is not a rate expression; write rate(<number><s|m|h|d>), e.g. rate(5m).`);
  const [, amount, unit] = m as unknown as [string, string, string];
  const perUnit = UNIT_SECONDS[unit.toLowerCase()];
  if (perUnit === undefined) throw new FrequencyError(`"${text}": the unit "${unit}" is not one of s, m, h, d.`);
  const seconds = Number(amount) * perUnit;
  if (seconds < RATE_MIN_SECONDS) throw new FrequencyError(`"${text}" is every ${seconds} s; a rate must be at least ${RATE_MIN_SECONDS} s.`);
  if (seconds > RATE_MAX_SECONDS) throw new FrequencyError(`"${text}" is every ${seconds} s; a rate must be at most 7 days (${RATE_MAX_SECONDS} s).`);
  const timeout = context.timeoutSeconds;
  if (timeout !== undefined && seconds <= timeout) {
    throw new FrequencyError(`"${text}" is every ${seconds} s, not longer than the command's Timeout of ${timeout} s; a rate must exceed Timeout.`);
  }
  return { kind: 'rate', text, intervalSeconds: seconds };
}

function parseAt(text: string, body: string, now: Date): Recurrence {
  const shape = 'write at(yyyy-MM-dd HH:mm:ss [time zone]), e.g. at(2027-06-06 13:15:30 Asia/Shanghai)';
  const parts = body.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) throw new FrequencyError(`"${text}" is not an at expression; ${shape}.`);
  const [day, clock, zoneName = 'UTC'] = parts as [string, string, string?];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !/^\d{2}:\d{2}:\d{2}$/.test(clock)) {
    throw new FrequencyError(`"${text}": "${day} ${clock}" is not yyyy-MM-dd HH:mm:ss; ${shape}.`);
  }
  const zone = zoneOrThrow(text, zoneName);
  const local = DateTime.fromFormat(`${day} ${clock}`, 'yyyy-MM-dd HH:mm:ss', { zone: zone.luxon });
  // luxon turns 24:00:00 into the next midnight; HH stops at 23.
  if (!local.isValid || clock.startsWith('24')) throw new FrequencyError(`"${text}": ${day} ${clock} is not a date and time that exists.`);
  const at = local.toJSDate();
  if (at.getTime() <= now.getTime()) throw new FrequencyError(`"${text}" has passed: ${iso(at)} is not after now (${iso(now)}).`);
  return { kind: 'at', text, at, timeZone: zoneName };
}

/** Checks one cron field against the cron expressions page and returns croner's spelling of it. */
function cronField(text: string, value: string, rule: FieldRule): string {
  const bad = (why: string): FrequencyError => new FrequencyError(`"${text}": the ${rule.name} field "${value}" ${why}.`);
  const allowed = new RegExp(`^[0-9A-Za-z${rule.specials.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}]+$`);
  if (!allowed.test(value)) {
    throw bad(`uses a character the field does not take (${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ''} and ${rule.specials.split('').join(' ')})`);
  }
  if (/(^|[^0-9])00\d/.test(value)) throw bad('has more than one leading zero');
  const words = value.toUpperCase().match(/[A-Z]+/g) ?? [];
  for (const word of words) {
    const special = (word === 'L' || word === 'W' || word === 'LW') && rule.specials.includes(word[0] as string);
    if (!special && !rule.names?.includes(word)) throw bad(`has "${word}", which the field does not take`);
  }
  // Values must lie in the field's range; a number after "/" is a step and after "#" an occurrence, not values.
  for (const part of value.split(',')) {
    const [range = '', step] = part.split('/');
    for (const n of range.split('#')[0]?.match(/\d+/g) ?? []) {
      const v = Number(n);
      if (v < rule.min || v > rule.max) throw bad(`has ${n}, outside ${rule.min}-${rule.max}`);
    }
    if (step !== undefined && !/^\d+$/.test(step)) throw bad(`has the step "${step}", which is not a number`);
    if (step !== undefined && Number(step) === 0) throw bad('has a step of 0');
  }
  // Quartz writes "from a, every n" as a/n; croner wants a range, and a-max/n means the same.
  return value
    .split(',')
    .map((part) => part.replace(/^(\d+|[A-Za-z]{3})\/(\d+)$/, `$1-${rule.max}/$2`))
    .join(',');
}

function newCron(pattern: string, zone: ZoneReading): Cron {
  // No callback: the Cron object only computes run times, nothing is scheduled.
  return new Cron(pattern, { mode: '6-or-7-parts', ...zone.croner });
}

function parseCron(text: string, context: FrequencyContext, now: Date): Recurrence {
  const parts = text.split(/\s+/);
  if (parts.length < 6 || parts.length > 8) {
    throw new FrequencyError(
      `"${text}" is not rate(...), at(...) or a cron expression; cron is "second minute hour day month week [year] [time zone]" and this has ${parts.length} part(s).`,
    );
  }
  // A seventh part is the year when it is written in year characters, else a time zone.
  const zoneGiven = parts.length === 8 || (parts.length === 7 && /[A-Za-z]/.test(parts[6] as string));
  const fields = zoneGiven ? parts.slice(0, -1) : parts;
  if (parts.length === 8 && /[A-Za-z]/.test(parts[6] as string)) {
    throw new FrequencyError(`"${text}": the year field "${parts[6]}" is not a year.`);
  }
  const zoneName = zoneGiven ? (parts.at(-1) as string) : (context.instanceTimeZone ?? 'UTC');
  const zone = zoneOrThrow(text, zoneName);
  const pattern = fields.map((value, i) => cronField(text, value, FIELDS[i] as FieldRule)).join(' ');
  let cron: Cron;
  try {
    cron = newCron(pattern, zone);
  } catch (e) {
    throw new FrequencyError(`"${text}" is not a cron expression croner can read: ${e instanceof Error ? e.message : String(e)}.`);
  }
  const runs = cron.nextRuns(GAP_SAMPLE, now);
  if (runs.length === 0) throw new FrequencyError(`"${text}" never fires after now (${iso(now)}).`);
  let gap = Infinity;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, ((runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime()) / 1000);
  if (gap < MIN_GAP_SECONDS) throw new FrequencyError(`"${text}" fires ${gap} s apart; runs must be at least ${MIN_GAP_SECONDS} s apart.`);
  const timeout = context.timeoutSeconds;
  if (timeout !== undefined && gap < timeout) {
    throw new FrequencyError(`"${text}" fires ${gap} s apart, less than the command's Timeout of ${timeout} s; runs must be at least Timeout apart.`);
  }
  return { kind: 'cron', text, pattern, timeZone: zoneName };
}

/**
 * Reads a Frequency as the local Cloud Assistant accepts it.
 * @throws FrequencyError naming the form, field, limit or zone that is wrong.
 */
export function parseFrequency(text: string, context: FrequencyContext = {}): Recurrence {
  const expression = text.trim();
  if (expression === '') throw new FrequencyError('The Frequency is empty; give rate(...), at(...) or a cron expression.');
  const now = context.now ?? new Date();
  // The agent reads rate and at without regard to case (reference §3.1).
  const call = /^(rate|at)\s*\((.*)\)$/is.exec(expression);
  if (call) {
    const [, form, body] = call as unknown as [string, string, string];
    return form.toLowerCase() === 'rate' ? parseRate(expression, body, context) : parseAt(expression, body, now);
  }
  if (/^(rate|at)\s*\(/i.test(expression)) throw new FrequencyError(`"${expression}" opens "(" and does not end with ")".`);
  return parseCron(expression, context, now);
}

/**
 * When the schedule fires next, strictly after `after`, or null when it never fires again. Nothing fires before the
 * task exists (an earlier `after` counts as `createdAt`); a rate fires at createdAt + k × interval, k ≥ 1.
 */
export function nextRun(recurrence: Recurrence, after: Date, createdAt: Date): Date | null {
  const from = Math.max(after.getTime(), createdAt.getTime());
  switch (recurrence.kind) {
    case 'rate': {
      const step = recurrence.intervalSeconds * 1000;
      return new Date(createdAt.getTime() + (Math.floor((from - createdAt.getTime()) / step) + 1) * step);
    }
    case 'at':
      return recurrence.at.getTime() > from ? new Date(recurrence.at.getTime()) : null;
    case 'cron':
      // croner answers strictly after the moment it is given.
      return newCron(recurrence.pattern, zoneOrThrow(recurrence.text, recurrence.timeZone)).nextRun(new Date(from));
  }
}
