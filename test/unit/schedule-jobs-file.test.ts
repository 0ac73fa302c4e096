import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isApiError } from '../../shared/cloud-assistant/errors.ts';
import { dueFires } from '../../shared/schedule/due.ts';
import { JobsFileError, loadJobsFile, parseJobsFile } from '../../shared/schedule/jobs-file.ts';

const NOW = new Date('2026-11-23T10:00:00Z');

function parse(text: string, source = 'jobs.yaml') {
  return parseJobsFile(text, source, { now: NOW });
}

/** The JobsFileError a parse throws (fails the test when it parses). */
function failure(text: string): JobsFileError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof JobsFileError) return e;
    throw e;
  }
  throw new Error('expected the jobs file to be refused');
}

const job = (fields: string) => `jobs:\n  - name: j\n    command: c\n    targets: { tags: { env: prod } }\n${fields}`;

describe('Function: parseJobsFile', () => {
  it('reads the documented example with its defaults and parsed frequency', () => {
    const [j, k] = parse(`
jobs:
  - name: nightly-disk-check
    command: disk-check
    with: { mount: /, depth: 3, follow: true }
    targets: { tags: { env: prod } }
    frequency: '0 0 2 * * ? Asia/Shanghai'
    timeout: 600
    maxConcurrency: 20%
    maxErrors: 5
  - name: native-heartbeat
    command: heartbeat
    targets: { instanceIds: [i-bp1demo000000000001] }
    frequency: rate(5m)
    mode: native
    enabled: false
`);
    expect(j).toEqual({
      name: 'nightly-disk-check',
      command: 'disk-check',
      with: { mount: '/', depth: '3', follow: 'true' },
      targets: { tags: { env: 'prod' } },
      frequency: '0 0 2 * * ? Asia/Shanghai',
      schedule: { kind: 'cron', expression: '0 0 2 * * ? Asia/Shanghai', pattern: '0 0 2 * * ?', timeZone: 'Asia/Shanghai' },
      timeout: 600,
      maxConcurrency: '20%',
      maxErrors: 5,
      mode: 'timer',
      enabled: true,
    });
    expect(k).toMatchObject({ with: {}, targets: { instanceIds: ['i-bp1demo000000000001'] }, mode: 'native', enabled: false });
    expect(k!.schedule).toEqual({ kind: 'rate', expression: 'rate(5m)', intervalSeconds: 300 });
  });

  it('takes an empty job list, and start as the rate anchor', () => {
    expect(parse('jobs: []\n')).toEqual([]);
    const [j] = parse(job("    frequency: rate(1h)\n    start: '2026-01-01T00:20:00+08:00'\n"));
    expect(j!.start).toEqual(new Date('2025-12-31T16:20:00Z'));
  });

  it('refuses a bad frequency with the file, job, field and the API reason and code', () => {
    const e = failure(job("    frequency: '0 0 2 * * ? Mars/Olympus'\n"));
    expect(e.message).toMatch(/^jobs\.yaml: job j \(jobs\[0\]\): frequency: .*Mars\/Olympus.* \(InvalidParam\.Frequency\)$/);
    expect(e.issues).toEqual([{ job: 'j (jobs[0])', field: 'frequency', reason: expect.stringContaining('names a time zone it cannot use'), code: 'InvalidParam.Frequency' }]);
    expect(isApiError(e.cause)).toBe(true);

    // The API's rule that a rate must exceed the Timeout, against the job's timeout.
    expect(failure(job('    frequency: rate(5m)\n    timeout: 300\n')).message).toMatch(/frequency: rate\(5m\) is 300 s, not longer than the command's Timeout of 300 s/);
    expect(failure(job('    frequency: rate(30s)\n')).message).toMatch(/shorter than the 60 s minimum/);
    expect(failure(job("    frequency: '*/5 * * * * ? UTC'\n")).message).toMatch(/fires only 5 s apart/);
    expect(failure(job('    frequency: at(2026-02-30 00:00:00 UTC)\n')).message).toMatch(/not a real date/);
  });

  it('refuses a cron without a time zone, since timer and native mode would read it differently', () => {
    expect(failure(job("    frequency: '0 0 2 * * ?'\n")).message).toMatch(/frequency: "0 0 2 \* \* \?" names no time zone/);
    expect(parse(job("    frequency: '0 0 2 * * ? 2027 GMT+8:00'\n"))[0]!.schedule).toMatchObject({ kind: 'cron', timeZone: 'GMT+8:00' });
  });

  it('loads a job whose last fire time has passed, and the tick right after an at time still fires it', () => {
    const [at] = parseJobsFile(job('    frequency: at(2026-11-23 09:59:30 UTC)\n'), 'jobs.yaml', { now: NOW });
    expect(dueFires(at!, new Date(NOW.getTime() - 300_000), NOW)).toEqual([new Date('2026-11-23T09:59:30Z')]);
    const [cron] = parse(job("    frequency: '0 0 2 * * ? 2025 UTC'\n"));
    expect(dueFires(cron!, new Date(NOW.getTime() - 300_000), NOW)).toEqual([]);
    // Still refused: what is wrong with it has nothing to do with time.
    expect(failure(job("    frequency: '0 0 0 30 2 ? UTC'\n")).message).toMatch(/never fires/);
  });

  it('names the job and field of structural problems and reports all of them', () => {
    const e = failure(`
jobs:
  - name: Nightly_Check
    command: c
    targets: { tags: { env: prod } }
    frequency: rate(1h)
  - name: ok
    command: c
    targets: { tags: {} }
    frequency: rate(1h)
    maxConcurrency: 120%
  - name: typo
    command: c
    targets: { instanceIds: [i-abc123] }
    frequency: rate(1h)
    maxconcurrency: 5
`);
    expect(e.issues.map((i) => [i.job, i.field])).toEqual([
      ['jobs[0]', 'name'],
      ['ok (jobs[1])', 'targets.tags'],
      ['ok (jobs[1])', 'maxConcurrency'],
      ['typo (jobs[2])', 'maxconcurrency'],
    ]);
    expect(e.message).toContain('jobs[0]: name: a job name is 1 to 63 of a-z, 0-9 and -');
    expect(e.message).toContain('a percentage is at most 100%');
    expect(e.message).toContain('targets.tags: name at least one tag');
  });

  it('refuses duplicate names, start on a native job, a missing jobs list and bad YAML', () => {
    expect(failure('jobs:\n' + ['a', 'a'].map((n) => `  - { name: ${n}, command: c, targets: { tags: { x: y } }, frequency: rate(1h) }\n`).join('')).message).toMatch(
      /job a \(jobs\[1\]\): name: the name a is already used/,
    );
    expect(failure(job("    frequency: rate(1h)\n    mode: native\n    start: '2026-01-01T00:00:00Z'\n")).message).toMatch(/start: start is a timer-mode setting/);
    expect(failure('schedules: []\n').message).toMatch(/^jobs\.yaml: /);
    expect(failure('jobs: [\n').message).toMatch(/not valid YAML/);
    expect(failure(job('    frequency: rate(1h)\n    mode: native\n    maxErrors: 2\n')).message).toMatch(/maxErrors: maxErrors is a timer-mode setting/);
    expect(failure(job("    frequency: rate(1h)\n    start: 'tomorrow'\n")).issues[0]).toMatchObject({ field: 'start' });
    expect(failure(job('    frequency: rate(1h)\n    mode: cron\n')).issues[0]).toMatchObject({ field: 'mode' });
  });

  it('holds maxConcurrency and maxErrors to the rule chat runs are held to: a count or a whole percentage', () => {
    const [j] = parse(job('    frequency: rate(1h)\n    maxConcurrency: 010%\n    maxErrors: 0\n'));
    expect(j).toMatchObject({ maxConcurrency: '10%', maxErrors: 0 });
    expect(failure(job('    frequency: rate(1h)\n    maxErrors: 10.5%\n')).issues).toEqual([
      { job: 'j (jobs[0])', field: 'maxErrors', reason: 'percentage must be a whole number, as SSM takes it (like 10%)' },
    ]);
    expect(failure(job('    frequency: rate(1h)\n    maxConcurrency: 2.5\n')).issues).toEqual([{ job: 'j (jobs[0])', field: 'maxConcurrency', reason: 'a count is a whole number' }]);
    expect(failure(job('    frequency: rate(1h)\n    maxErrors: -1\n')).issues).toEqual([{ job: 'j (jobs[0])', field: 'maxErrors', reason: 'a count is 0 or more' }]);
    expect(failure(job('    frequency: rate(1h)\n    maxErrors: lots\n')).issues).toEqual([{ job: 'j (jobs[0])', field: 'maxErrors', reason: 'write a whole number or a percentage such as 20%' }]);
  });
});

describe('Function: loadJobsFile', () => {
  it('reads a file and names it in errors; the demo jobs file loads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-jobs-'));
    try {
      const file = path.join(dir, 'jobs.yaml');
      await writeFile(file, job("    frequency: '0 0 2 * * ? Atlantis'\n"));
      await expect(loadJobsFile(file)).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: job j`));
      const demo = await loadJobsFile(path.join(import.meta.dirname, '../../local/demo/jobs.yaml'), { now: NOW });
      expect(demo.map((j) => j.mode)).toContain('native');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
