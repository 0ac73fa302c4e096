/**
 * The `Frequency` parameter of RunCommand / InvokeCommand (seeds 000, 001; reference §3.1): a rate, a one-off
 * `at` time or a cron expression with optional year and time zone. Parsing checks every documented limit, so a
 * schedule the real API would refuse is refused here too, with an `InvalidParam.Frequency` error that says why.
 */
import { Cron, type CronOptions } from 'croner';
import { DateTime, FixedOffsetZone, IANAZone, type Zone } from 'luxon';
import { LIMITS } from './constants.ts';
import { ApiError } from './errors.ts';

/**
 * A parsed, checked `Frequency`.
 * - `rate`: runs every `intervalSeconds`, the first time one interval after the task was created.
 * - `at`: runs once at `at`; `timeZone` is the zone the expression was written in (`UTC` when it named none).
 * - `cron`: runs whenever `pattern` matches in `timeZone`. `pattern` is what croner reads (6 or 7 fields, Quartz
 *   `a/n` steps rewritten as `a-max/n`); `timeZone` is the expression's zone, or the instance's when it named none.
 */
export type Frequency =
  | { kind: 'rate'; expression: string; intervalSeconds: number }
  | { kind: 'at'; expression: string; at: Date; timeZone: string }
  | { kind: 'cron'; expression: string; pattern: string; timeZone: string };

/** What a Frequency is checked against. */
export interface FrequencyOptions {
  /** The moment the schedule is created; `at` times and cron runs must lie after it. Default: the current time. */
  now?: Date;
  /** The command's Timeout in seconds; a rate must exceed it and cron runs must be at least this far apart. Default 60. */
  timeoutSeconds?: number;
  /** The instance's system time zone, used by a cron expression that names none (IANA, `GMT+8:00` or `UTC`). Default `UTC`. */
  defaultTimeZone?: string;
}

const RATE_MIN_SECONDS = 60;
const RATE_MAX_SECONDS = 7 * 86_400;
const CRON_MIN_INTERVAL_SECONDS = 10;
/**
 * The gap check samples this many runs from now. A pattern's tightest gap normally appears at the first minute, hour
 * or day boundary it crosses, which 100 runs reach for any pattern sparse enough to matter, for a few milliseconds.
 */
const CRON_SAMPLE_RUNS = 100;
/** Cloud Assistant accepts offsets written `GMT+8:00` (the documented form) and `GMT+08:00`. */
const GMT_OFFSET = /^GMT([+-])(\d{1,2}):(\d{2})$/;
const MAX_OFFSET_MINUTES = 14 * 60;
const MAX_YEAR = 2099;
const RATE_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

interface CronField {
  name: string;
  /** The largest value, used to turn Quartz `a/n` into croner's `a-max/n`. */
  max: number;
  /** What the field takes, for error messages (the Cloud Assistant "cron expressions" page). */
  accepts: string;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'seconds', max: 59, accepts: '0-59 and * , - /' },
  { name: 'minutes', max: 59, accepts: '0-59 and * , - /' },
  { name: 'hours', max: 23, accepts: '0-23 and * , - /' },
  { name: 'day-of-month', max: 31, accepts: '1-31 and * , - / ? L W' },
  { name: 'month', max: 12, accepts: '1-12 or JAN-DEC and * , - /' },
  // Cloud Assistant numbers weekdays 1 = Monday … 7 = Sunday, which is croner's standard (non-Quartz) numbering.
  { name: 'day-of-week', max: 7, accepts: '1-7 (1 = Monday, 7 = Sunday) or MON-SUN and * , - / ? L #' },
  // The documented year range ends at 2099, so an open `2022/2` means 2022, 2024 … 2098.
  { name: 'year', max: MAX_YEAR, accepts: 'the current year to 2099 and * , - /' },
];

/** Where a Frequency's time zone leads: luxon for `at` times, croner options for cron runs. */
interface ResolvedZone {
  luxon: Zone;
  croner: Pick<CronOptions, 'timezone' | 'utcOffset'>;
}

function invalid(detail: string, cause?: unknown): ApiError {
  return new ApiError('InvalidParam.Frequency', detail, cause === undefined ? undefined : { cause });
}

function iso(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

const ZONE_FORMS = 'an IANA name such as Asia/Shanghai, GMT+8:00 / GMT-7:00, or UTC';

/** Why `name` is not a zone Cloud Assistant takes. */
function zoneProblem(name: string): string {
  if (GMT_OFFSET.test(name)) return `the offset "${name}" is out of range (GMT-14:00 to GMT+14:00, minutes 00-59)`;
  if (/^(GMT|UTC)[+-]\d+$/i.test(name)) return `"${name}" is not a form Cloud Assistant takes; write offsets with minutes, e.g. GMT+8:00`;
  return `"${name}" is not ${ZONE_FORMS}`;
}

/** The zone a Frequency names, or undefined when it is none of the forms Cloud Assistant takes. */
function resolveZone(name: string): ResolvedZone | undefined {
  if (name === 'UTC') return { luxon: FixedOffsetZone.utcInstance, croner: { utcOffset: 0 } };
  const gmt = GMT_OFFSET.exec(name);
  if (gmt) {
    const [, sign, hours, minutes] = gmt as unknown as [string, string, string, string];
    if (Number(minutes) > 59) return undefined;
    const offset = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
    if (Math.abs(offset) > MAX_OFFSET_MINUTES) return undefined;
    // croner takes a fixed offset as minutes; an IANA name would bring daylight-saving rules GMT+8:00 does not have.
    return { luxon: FixedOffsetZone.instance(offset), croner: { utcOffset: offset } };
  }
  // Recent Intl versions also take bare offsets such as "+08:00", which Cloud Assistant does not; names start with a letter.
  if (/^[A-Za-z]/.test(name) && IANAZone.isValidZone(name)) {
    return { luxon: IANAZone.create(name), croner: { timezone: name } };
  }
  return undefined;
}

function parseRate(expression: string, inner: string, timeoutSeconds: number): Frequency {
  const m = /^(\d+)([A-Za-z]+)$/.exec(inner.trim());
  if (!m) {
    throw invalid(`"${expression}" is not a rate expression: write rate(<whole number><s|m|h|d>), e.g. rate(5m).`);
  }
  const [, amount, unit] = m as unknown as [string, string, string];
  const factor = RATE_UNITS[unit.toLowerCase()];
  if (factor === undefined) {
    throw invalid(`"${expression}" has the unit "${unit}"; a rate's unit must be s, m, h or d.`);
  }
  const intervalSeconds = Number(amount) * factor;
  if (intervalSeconds < RATE_MIN_SECONDS) {
    throw invalid(`${expression} is ${intervalSeconds} s, shorter than the ${RATE_MIN_SECONDS} s minimum interval of a rate.`);
  }
  if (intervalSeconds > RATE_MAX_SECONDS) {
    throw invalid(`${expression} is ${intervalSeconds} s, longer than the 7-day (${RATE_MAX_SECONDS} s) maximum interval of a rate.`);
  }
  if (intervalSeconds <= timeoutSeconds) {
    throw invalid(
      `${expression} is ${intervalSeconds} s, not longer than the command's Timeout of ${timeoutSeconds} s; ` +
        'a rate must be greater than Timeout so that runs do not overlap.',
    );
  }
  return { kind: 'rate', expression, intervalSeconds };
}

function parseAt(expression: string, inner: string, now: Date): Frequency {
  const parts = inner.trim().split(/\s+/);
  const [date, time, zoneName = 'UTC', ...extra] = parts;
  const shape = 'write at(yyyy-MM-dd HH:mm:ss) or at(yyyy-MM-dd HH:mm:ss <time zone>), e.g. at(2022-06-06 13:15:30 Asia/Shanghai)';
  if (date === undefined || time === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}:\d{2}$/.test(time)) {
    throw invalid(`"${expression}" is not an at expression: ${shape}.`);
  }
  if (extra.length > 0) {
    throw invalid(`"${expression}" has "${extra.join(' ')}" after the time zone; ${shape}.`);
  }
  // luxon reads 24:00:00 as the next midnight, but HH only goes to 23.
  if (time.startsWith('24')) throw invalid(`"${expression}": the hour 24 is out of range; HH is 00 to 23.`);
  const zone = resolveZone(zoneName);
  if (!zone) throw invalid(`"${expression}" names a time zone it cannot use: ${zoneProblem(zoneName)}.`);
  // A local time skipped by a daylight-saving change moves forward (luxon's rule), as croner does for cron runs.
  const local = DateTime.fromFormat(`${date} ${time}`, 'yyyy-MM-dd HH:mm:ss', { zone: zone.luxon });
  if (!local.isValid) {
    throw invalid(`"${expression}": ${date} ${time} is not a real date and time (${local.invalidExplanation ?? local.invalidReason}).`);
  }
  const at = local.toJSDate();
  if (at.getTime() <= now.getTime()) {
    throw invalid(`"${expression}" has expired: ${iso(at)} is not after now (${iso(now)}); an at time must be in the future.`);
  }
  return { kind: 'at', expression, at, timeZone: zoneName };
}

/** Quartz writes "from a, every n" as `a/n`; croner wants a range, so `a/n` becomes `a-max/n`, which means the same. */
function toCronerField(value: string, field: CronField): string {
  return value
    .split(',')
    .map((part) => part.replace(/^(\d+|[A-Za-z]{3})\/(\d+)$/, `$1-${field.max}/$2`))
    .join(',');
}

function newCron(pattern: string, zone: ResolvedZone): Cron {
  // No callback, so nothing is scheduled: the job is only used to compute run times.
  return new Cron(pattern, { mode: '6-or-7-parts', ...zone.croner });
}

/** The first field croner refuses on its own, so the error names it rather than repeating croner's wording. */
function findBadField(fields: readonly string[], originals: readonly string[]): string | undefined {
  for (const [i, value] of fields.entries()) {
    const probe = ['0', '*', '*', '*', '*', '*', '*'];
    probe[i] = value;
    try {
      new Cron(probe.join(' '), { mode: '6-or-7-parts', utcOffset: 0 });
    } catch {
      const field = CRON_FIELDS[i] as CronField;
      return `its ${field.name} field "${originals[i]}" is not valid (${field.name} takes ${field.accepts})`;
    }
  }
  return undefined;
}

function parseCron(expression: string, options: Required<FrequencyOptions>): Frequency {
  const tokens = expression.split(/\s+/);
  const layout = 'seconds minutes hours day-of-month month day-of-week [year] [time zone]';
  if (tokens.length < 6 || tokens.length > 8) {
    throw invalid(`"${expression}" is not a rate(...), at(...) or cron expression; a cron expression is ${layout}, but this has ${tokens.length} part${tokens.length === 1 ? '' : 's'}.`);
  }
  // The 7th part is the year when it is written with year characters, otherwise a time zone.
  const hasZone = tokens.length === 8 || (tokens.length === 7 && !/^[\d*,\-/]+$/.test(tokens[6] as string));
  const originals = hasZone ? tokens.slice(0, -1) : tokens;
  const zoneName = hasZone ? (tokens[tokens.length - 1] as string) : options.defaultTimeZone;
  const zone = resolveZone(zoneName);
  if (!zone) {
    if (!hasZone) throw new RangeError(`defaultTimeZone "${zoneName}" is not ${ZONE_FORMS}.`);
    throw invalid(`"${expression}" names a time zone it cannot use: ${zoneProblem(zoneName)}.`);
  }
  for (const [i, value] of originals.entries()) {
    // Documented limit: "each field supports up to one leading zero" (08 is fine, 008 is not).
    if (/(^|\D)00\d/.test(value)) {
      throw invalid(`"${expression}": its ${(CRON_FIELDS[i] as CronField).name} field "${value}" has more than one leading zero.`);
    }
  }
  // croner also reads 0 as Sunday; Cloud Assistant's week days are 1-7 (a number after # is an occurrence, not a day).
  const weekZero = originals[5]?.split(',').find((part) => /(^|[-/])0+(?=$|[-/#L])/.test(part.split('/')[0] ?? ''));
  if (weekZero !== undefined) {
    throw invalid(`"${expression}": its day-of-week field "${originals[5]}" names day 0; day-of-week takes ${(CRON_FIELDS[5] as CronField).accepts}.`);
  }
  const year = originals[6];
  // croner reads years up to 9999; Cloud Assistant stops at 2099. Step sizes after "/" are not years.
  const lateYear = year?.split(',').flatMap((part) => part.split('/')[0]?.match(/\d+/g) ?? []).find((n) => Number(n) > MAX_YEAR);
  if (lateYear !== undefined) {
    throw invalid(`"${expression}": its year field "${year}" names ${lateYear}, after ${MAX_YEAR}, the last year Cloud Assistant takes.`);
  }
  const fields = originals.map((value, i) => toCronerField(value, CRON_FIELDS[i] as CronField));
  const pattern = fields.join(' ');
  let cron: Cron;
  try {
    cron = newCron(pattern, zone);
  } catch (e) {
    const which = findBadField(fields, originals) ?? (e instanceof Error ? e.message : String(e));
    throw invalid(`"${expression}" is not a valid cron expression: ${which}.`, e);
  }

  const runs = cron.nextRuns(CRON_SAMPLE_RUNS, options.now);
  if (runs.length === 0) {
    if (year !== undefined && newCron(`0 0 0 * * * ${fields[6]}`, zone).nextRun(options.now) === null) {
      throw invalid(`"${expression}" has expired: its year field "${originals[6]}" allows no run after now (${iso(options.now)}).`);
    }
    throw invalid(
      `"${expression}" never fires after now (${iso(options.now)}): no date matches its ` +
        `${year === undefined ? 'day-of-month, month and day-of-week' : 'day-of-month, month, day-of-week and year'} fields together.`,
    );
  }
  let gap = Infinity;
  let from = runs[0] as Date;
  for (let i = 1; i < runs.length; i++) {
    const d = ((runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime()) / 1000;
    if (d < gap) [gap, from] = [d, runs[i - 1] as Date];
  }
  // With a single run left there is no gap (gap stays Infinity) and nothing to check.
  const example = (): string => `e.g. ${iso(from)} and ${iso(new Date(from.getTime() + gap * 1000))}`;
  if (gap < CRON_MIN_INTERVAL_SECONDS) {
    throw invalid(`"${expression}" fires only ${gap} s apart (${example()}); cron runs must be at least ${CRON_MIN_INTERVAL_SECONDS} s apart.`);
  }
  if (gap < options.timeoutSeconds) {
    throw invalid(
      `"${expression}" fires only ${gap} s apart (${example()}), less than the command's Timeout of ${options.timeoutSeconds} s; ` +
        'cron runs must be at least Timeout apart.',
    );
  }
  return { kind: 'cron', expression, pattern, timeZone: zoneName };
}

/**
 * Parses a `Frequency` and checks it as Cloud Assistant does: a rate of 60 s to 7 days that is longer than the
 * command's Timeout; an `at` time in the future; a cron expression croner can read that fires again and whose runs are
 * at least 10 s and at least Timeout apart.
 *
 * @throws ApiError `InvalidParam.Frequency`, saying which form, field, limit or time zone is wrong.
 */
export function parseFrequency(expression: string, options: FrequencyOptions = {}): Frequency {
  const resolved: Required<FrequencyOptions> = {
    now: options.now ?? new Date(),
    timeoutSeconds: options.timeoutSeconds ?? LIMITS.defaultTimeoutSeconds,
    defaultTimeZone: options.defaultTimeZone ?? 'UTC',
  };
  const text = expression.trim();
  if (text === '') throw invalid('The expression is empty; give a rate(...), at(...) or cron expression.');
  // The agent matches rate and at case-insensitively (reference §3.1).
  const call = /^(rate|at)\s*\((.*)\)$/is.exec(text);
  if (call) {
    const [, fn, inner] = call as unknown as [string, string, string];
    return fn.toLowerCase() === 'rate' ? parseRate(text, inner, resolved.timeoutSeconds) : parseAt(text, inner, resolved.now);
  }
  if (/^(rate|at)\s*\(/i.test(text)) throw invalid(`"${text}" opens a ( that is not closed at the end.`);
  return parseCron(text, resolved);
}

/**
 * The next time a schedule fires strictly after `after`, or null when it never fires again. Nothing fires before the
 * task exists, so a moment before `createdAt` counts as `createdAt`; a rate fires at `createdAt` + k × interval, k ≥ 1.
 */
export function nextRun(frequency: Frequency, after: Date, createdAt: Date): Date | null {
  const floor = Math.max(after.getTime(), createdAt.getTime());
  switch (frequency.kind) {
    case 'rate': {
      const intervalMs = frequency.intervalSeconds * 1000;
      const k = Math.floor((floor - createdAt.getTime()) / intervalMs) + 1;
      return new Date(createdAt.getTime() + k * intervalMs);
    }
    case 'at':
      return frequency.at.getTime() > floor ? new Date(frequency.at.getTime()) : null;
    case 'cron': {
      const zone = resolveZone(frequency.timeZone);
      if (!zone) throw invalid(`The schedule's time zone cannot be used: ${zoneProblem(frequency.timeZone)}.`);
      // croner answers strictly after the given moment, at whole seconds.
      return newCron(frequency.pattern, zone).nextRun(new Date(floor));
    }
  }
}
