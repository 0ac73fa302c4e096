/**
 * The jobs file: scheduled fleet runs, kept in version control next to the functions.
 *
 * ```yaml
 * jobs:
 *   - name: nightly-disk-check            # [a-z0-9-], unique, ≤ 63 characters
 *     command: disk-check                 # a name in the command catalog
 *     with: { mount: / }                  # parameters (numbers and booleans are taken as their text)
 *     targets: { tags: { env: prod } }    # or { instanceIds: [i-…] }
 *     frequency: '0 0 2 * * ? Asia/Shanghai'   # cron (seconds, optional year, time zone), rate(1h) or at(…)
 *     start: '2026-01-01T00:00:00Z'       # optional, timer mode only: the rate anchor, and no fire at or before it
 *     timeout: 600                        # optional seconds (10 to 86400)
 *     maxConcurrency: 20%                 # optional count or whole percentage
 *     maxErrors: 5                        # optional count or whole percentage
 *     mode: timer                         # timer (default) | native
 *     enabled: true                       # default true
 * ```
 *
 * Frequencies are checked by the Cloud Assistant library's own `parseFrequency` when the file is
 * loaded, so a schedule Cloud Assistant would refuse is refused here, with the API's reason.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LIMITS } from '../cloud-assistant/constants.ts';
import { isApiError } from '../cloud-assistant/errors.ts';
import { parseFrequency, type Frequency } from '../cloud-assistant/frequency.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import { countOrPercentSchema, type CountOrPercent } from '../runs/count-or-percent.ts';

/** Job names become object keys and run ids, so they are kept to what is safe in both. */
export const JOB_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const JOB_MODES = ['timer', 'native'] as const;
export type JobMode = (typeof JOB_MODES)[number];

/** YAML reads `size: 10` as a number; Cloud Assistant parameters are text, so scalars are taken as written. */
const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const targetsSchema = z.union(
  [
    // An empty tag filter would select every instance in the region; that must be written out, not implied.
    z.object({ tags: z.record(z.string().min(1), scalarText).refine((t) => Object.keys(t).length > 0, 'name at least one tag') }).strict(),
    z
      .object({ instanceIds: z.array(z.string().regex(/^i-[a-z0-9]+$/, 'an instance id looks like i-bp1demo000000000001')).min(1) })
      .strict(),
  ],
  { error: 'targets is { tags: { key: value, … } } or { instanceIds: [i-…, …] }' },
);

export const jobSchema = z
  .object({
    name: z.string().regex(JOB_NAME, 'a job name is 1 to 63 of a-z, 0-9 and -, starting with a letter or digit'),
    command: z.string().min(1),
    with: z.record(z.string().min(1), scalarText).default({}),
    targets: targetsSchema,
    frequency: z.string().trim().min(1),
    start: z.iso.datetime({ offset: true, error: 'start is an ISO 8601 time with its offset, e.g. 2026-01-01T00:00:00Z' }).optional(),
    timeout: z.number().int().positive().optional(),
    // The rule a chat run is held to: a count, or a whole percentage (runs/count-or-percent.ts).
    maxConcurrency: countOrPercentSchema.optional(),
    maxErrors: countOrPercentSchema.optional(),
    mode: z.enum(JOB_MODES).default('timer'),
    enabled: z.boolean().default(true),
  })
  // A misspelt key (maxconcurrency, enable) would otherwise be dropped without a word.
  .strict();

export const jobsFileSchema = z.object({ jobs: z.array(jobSchema) }).strict();

/** One scheduled job, checked, with its frequency parsed. */
export interface Job {
  name: string;
  /** A name in the command catalog. */
  command: string;
  /** Parameters for the command, as text. */
  with: Record<string, string>;
  targets: Targets;
  /** The frequency as written in the file: what InvokeCommand gets in native mode. */
  frequency: string;
  /** The frequency parsed by `parseFrequency`. */
  schedule: Frequency;
  /** Timer mode: the anchor of a rate and the moment before which nothing fires. */
  start?: Date;
  timeout?: number;
  maxConcurrency?: CountOrPercent;
  maxErrors?: CountOrPercent;
  mode: JobMode;
  enabled: boolean;
}

/** One thing wrong in a jobs file. */
export interface JobsFileIssue {
  /** The job's name when it has a usable one, else its position (`jobs[2]`); undefined for the file as a whole. */
  job: string | undefined;
  /** The field, as a dotted path inside the job (`targets.tags`), or undefined. */
  field: string | undefined;
  /** What is wrong; for a frequency, the API's own reason. */
  reason: string;
  /** The API's error code when the API's rules found it (`InvalidParam.Frequency`). */
  code?: string;
}

/** A jobs file that cannot be used. The message names the file and, for each problem, the job and field. */
export class JobsFileError extends Error {
  override readonly name = 'JobsFileError';
  constructor(
    readonly source: string,
    readonly issues: JobsFileIssue[],
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${issues.map(describeIssue).join('; ')}`, options);
  }
}

function describeIssue(issue: JobsFileIssue): string {
  const where = [issue.job === undefined ? undefined : `job ${issue.job}`, issue.field].filter(Boolean).join(': ');
  return `${where ? `${where}: ` : ''}${issue.reason}${issue.code ? ` (${issue.code})` : ''}`;
}

export interface ParseJobsOptions {
  /** The moment frequencies are checked at (an `at` time must lie after it). Default: now. */
  now?: Date;
}

/**
 * Whether `expression` names a time zone. A cron without one is read in the instance's zone by
 * Cloud Assistant (native mode) but in UTC by fleetrun (timer mode), so the file must say which.
 */
function cronNamesZone(expression: string, parsed: Frequency): boolean {
  return parsed.kind !== 'cron' || expression.split(/\s+/).at(-1) === parsed.timeZone;
}

/**
 * Checks a frequency with the API's rules. A schedule whose last fire time has passed (an `at` time,
 * a cron whose year is over) is still a valid job: the file must not stop loading as time goes by,
 * and the tick right after an `at` time must still be able to fire it. So when the check at `now`
 * fails, the expression is checked again as of the epoch; if it passes then, only time is wrong.
 */
function checkFrequency(expression: string, timeoutSeconds: number, now: Date): Frequency {
  try {
    return parseFrequency(expression, { now, timeoutSeconds });
  } catch (atNow) {
    if (!isApiError(atNow)) throw atNow;
    try {
      return parseFrequency(expression, { now: new Date(0), timeoutSeconds });
    } catch {
      throw atNow;
    }
  }
}

/**
 * Parses a jobs file's text. Every problem is reported, each naming the job and field; a frequency
 * problem carries the API's reason and code.
 *
 * @param source the file's name, for messages
 * @throws JobsFileError
 */
export function parseJobsFile(text: string, source = 'jobs file', options: ParseJobsOptions = {}): Job[] {
  const now = options.now ?? new Date();
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new JobsFileError(source, [{ job: undefined, field: undefined, reason: `not valid YAML: ${(e as Error).message}` }], { cause: e });
  }
  if (data === null || data === undefined) {
    throw new JobsFileError(source, [{ job: undefined, field: undefined, reason: 'the file is empty; it needs a jobs: list (jobs: [] for none)' }]);
  }
  const result = jobsFileSchema.safeParse(data);
  if (!result.success) {
    const rawJobs = (data as { jobs?: unknown } | null)?.jobs;
    const issues = result.error.issues.map((issue): JobsFileIssue => {
      const [top, index, ...rest] = issue.path;
      if (top !== 'jobs' || typeof index !== 'number') {
        return { job: undefined, field: issue.path.join('.') || undefined, reason: issue.message };
      }
      const name = Array.isArray(rawJobs) ? (rawJobs[index] as { name?: unknown } | undefined)?.name : undefined;
      const job = typeof name === 'string' && JOB_NAME.test(name) ? `${name} (jobs[${index}])` : `jobs[${index}]`;
      // An unknown key's issue sits on the job itself; naming the key is what helps.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
      return { job, field: keys ?? (rest.join('.') || undefined), reason: issue.message };
    });
    throw new JobsFileError(source, issues, { cause: result.error });
  }

  const issues: JobsFileIssue[] = [];
  let firstCause: unknown;
  const seen = new Set<string>();
  const jobs: Job[] = [];
  for (const [index, raw] of result.data.jobs.entries()) {
    const job = `${raw.name} (jobs[${index}])`;
    if (seen.has(raw.name)) issues.push({ job, field: 'name', reason: `the name ${raw.name} is already used by an earlier job` });
    seen.add(raw.name);
    if (raw.start !== undefined && raw.mode === 'native') {
      issues.push({
        job,
        field: 'start',
        reason: 'start is a timer-mode setting; a native job runs on Cloud Assistant, whose rate runs count from when the invocation is created',
      });
    }
    for (const field of ['maxConcurrency', 'maxErrors'] as const) {
      if (raw[field] !== undefined && raw.mode === 'native') {
        issues.push({ job, field, reason: `${field} is a timer-mode setting; Cloud Assistant runs a Period invocation on all its instances each time` });
      }
    }
    let schedule: Frequency;
    try {
      // The API's default Timeout when the job gives none: the rule "a rate must exceed Timeout" is checked against what will run.
      schedule = checkFrequency(raw.frequency, raw.timeout ?? LIMITS.defaultTimeoutSeconds, now);
    } catch (e) {
      if (!isApiError(e)) throw e;
      firstCause ??= e;
      issues.push({ job, field: 'frequency', reason: e.detail ?? e.message, code: e.code });
      continue;
    }
    if (!cronNamesZone(raw.frequency, schedule)) {
      issues.push({
        job,
        field: 'frequency',
        reason: `"${raw.frequency}" names no time zone; add one (e.g. Asia/Shanghai, GMT+8:00 or UTC), because fleetrun reads a cron in UTC but Cloud Assistant in the instance's own zone`,
      });
      continue;
    }
    jobs.push({
      name: raw.name,
      command: raw.command,
      with: raw.with,
      targets: raw.targets as Targets,
      frequency: raw.frequency,
      schedule,
      ...(raw.start !== undefined ? { start: new Date(raw.start) } : {}),
      ...(raw.timeout !== undefined ? { timeout: raw.timeout } : {}),
      ...(raw.maxConcurrency !== undefined ? { maxConcurrency: raw.maxConcurrency } : {}),
      ...(raw.maxErrors !== undefined ? { maxErrors: raw.maxErrors } : {}),
      mode: raw.mode,
      enabled: raw.enabled,
    });
  }
  if (issues.length > 0) throw new JobsFileError(source, issues, firstCause === undefined ? undefined : { cause: firstCause });
  return jobs;
}

/** Reads and parses a jobs file; problems name `path`. */
export async function loadJobsFile(path: string, options: ParseJobsOptions = {}): Promise<Job[]> {
  return parseJobsFile(await readFile(path, 'utf8'), path, options);
}
