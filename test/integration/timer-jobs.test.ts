/**
 * The timer tick against the real local services: fire markers in the local OSS through ali-oss
 * (forbidOverwrite on the wire), runs started with the real startRun on the local Cloud Assistant.
 * Ticks are given their `now`, so nothing here waits for the clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EcsCloudAssistant } from '../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { startRun } from '../../shared/pipeline/start-run.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseJobsFile, type Job } from '../../shared/schedule/jobs-file.ts';
import { fireKeys, readFireMarker, runTimerJobs, scheduledRunId, type TimerJobsDeps } from '../../shared/schedule/timer-jobs.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { parseFleet } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs/server.ts';
import { AK, BUCKET, REGION as OSS_REGION, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const REGION = 'cn-hangzhou';
const ECS_KEY = { accessKeyId: 'schedule-tick-key', accessKeySecret: 'schedule-tick-secret' };
const FLEET = `
instances:
  - { id: i-sched00000000000001, name: web-1, tags: { env: sched } }
  - { id: i-sched00000000000002, name: web-2, tags: { env: sched } }
`;

let oss: TestOss;
let ecs: EcsEmulator;
let assistant: EcsCloudAssistant;
const logLines: string[] = [];
const logger = createLogger({ sink: (l) => logLines.push(l) });

beforeAll(async () => {
  oss = await startTestOss();
  ecs = await startEcsEmulator({ fleet: parseFleet(FLEET, 'test fleet'), accessKeys: { [ECS_KEY.accessKeyId]: ECS_KEY.accessKeySecret }, regionId: REGION });
  assistant = await EcsCloudAssistant.create({ regionId: REGION, credentials: ECS_KEY, endpoint: ecs.endpoint, protocol: 'http' });
});
afterAll(async () => {
  await ecs?.close();
  await oss?.close();
});

/** A store as one function instance would have it: its own ali-oss client. */
function newStore(): AliOssStore {
  return new AliOssStore({ bucket: BUCKET, region: OSS_REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
}

let jobSeq = 0;
let job: Job;
beforeEach(() => {
  // A fresh job name per test, so markers of one test never answer another's claims.
  jobSeq++;
  [job] = parseJobsFile(
    `jobs:\n  - { name: tick-${jobSeq}, command: hello, targets: { tags: { env: sched } }, frequency: '0 * * * * ? UTC', timeout: 30 }\n`,
    'jobs.yaml',
    { now: new Date('2026-11-23T00:00:00Z') },
  ) as [Job];
});

/** startJobRun as the schedule function would wire it: the real startRun, with the fire's own run id. */
function realStart(store: AliOssStore, started: { job: string; fireTime: string; runId: string }[]): TimerJobsDeps['startJobRun'] {
  return async (j, fireTime) => {
    const runId = scheduledRunId(j, fireTime);
    started.push({ job: j.name, fireTime: fireTime.toISOString(), runId });
    const manifest = await startRun(
      { runId, command: { name: j.command, type: 'RunShellScript', script: 'echo scheduled', timeoutSeconds: j.timeout ?? 60 }, targets: j.targets, requestedBy: { kind: 'schedule' } },
      { assistant, store, regionId: REGION, chat: NO_CHAT, logger },
    );
    return { runId: manifest.runId };
  };
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);

describe('runTimerJobs on the local OSS and Cloud Assistant', () => {
  it('two ticks at once, on two clients, start a due fire exactly once', async () => {
    // Slow every claim write down, so both ticks' claims are in flight at the same time.
    oss.emulator.faults.delay = ({ action, key }) => (action === 'PutObject' && key.startsWith(fireKeys.prefix) ? 60 : 0);
    try {
      const started: { job: string; fireTime: string; runId: string }[] = [];
      const runCommandsBefore = ecs.calls.RunCommand ?? 0;
      const [storeA, storeB] = [newStore(), newStore()];
      const tick = (store: AliOssStore, now: string) =>
        runTimerJobs({ jobs: [job], store, now: new Date(now), lookbackSeconds: 60, startJobRun: realStart(store, started), logger });
      const [a, b] = await Promise.all([tick(storeA, '2026-11-23T10:00:05Z'), tick(storeB, '2026-11-23T10:00:07Z')]);

      expect(started).toHaveLength(1);
      expect(started[0]!.fireTime).toBe('2026-11-23T10:00:00.000Z');
      expect([...a.fired, ...b.fired]).toHaveLength(1);
      expect([...a.skipped, ...b.skipped]).toEqual([{ job: job.name, fireTime: new Date('2026-11-23T10:00:00Z'), reason: 'already-claimed' }]);
      expect((ecs.calls.RunCommand ?? 0) - runCommandsBefore).toBe(1);
      expect(await storeA.get(runKeys.manifest(started[0]!.runId))).toBeDefined();
      expect(await readFireMarker(storeB, job.name, new Date('2026-11-23T10:00:00Z'))).toMatchObject({ status: 'started', runId: started[0]!.runId });
    } finally {
      oss.emulator.faults.delay = undefined;
    }
  });

  it('a tick after missed ones catches up every fire within the lookback, and nothing twice', async () => {
    const store = newStore();
    const started: { job: string; fireTime: string; runId: string }[] = [];
    const tick = (now: string) => runTimerJobs({ jobs: [job], store, now: new Date(now), lookbackSeconds: 300, startJobRun: realStart(store, started), logger });

    const first = await tick('2026-11-23T10:00:02Z');
    expect(first.fired.map((f) => hhmm(f.fireTime))).toEqual(['09:56', '09:57', '09:58', '09:59', '10:00']);
    // The ticks of 10:01, 10:02 and 10:03 never came; the one at 10:03:30 makes up for them.
    const late = await tick('2026-11-23T10:03:30Z');
    expect(late.fired.map((f) => hhmm(f.fireTime))).toEqual(['10:01', '10:02', '10:03']);
    expect(late.skipped.map((s) => [hhmm(s.fireTime), s.reason])).toEqual([
      ['09:59', 'already-claimed'],
      ['10:00', 'already-claimed'],
    ]);
    // A retry of the same tick (FC retries a failed invocation) starts nothing.
    const retry = await tick('2026-11-23T10:03:30Z');
    expect(retry.fired).toEqual([]);

    expect(started.map((s) => s.fireTime.slice(11, 16))).toEqual(['09:56', '09:57', '09:58', '09:59', '10:00', '10:01', '10:02', '10:03']);
    const markers: string[] = [];
    for await (const o of store.list(fireKeys.jobPrefix(job.name))) markers.push(o.key.slice(fireKeys.jobPrefix(job.name).length));
    expect(markers).toHaveLength(8);
    expect(markers.at(-1)).toBe('2026-11-23T10:03:00.000Z');
    // Each fire is its own run, with its manifest in the bucket.
    for (const s of started) expect(await store.get(runKeys.manifest(s.runId))).toBeDefined();
  });

  it('a run that fails to start is recorded on its marker and not retried; the other job still fires', async () => {
    const store = newStore();
    const [other] = parseJobsFile(`jobs:\n  - { name: tick-${jobSeq}-b, command: hello, targets: { tags: { env: sched } }, frequency: rate(1h) }\n`, 'jobs.yaml', {
      now: new Date('2026-11-23T00:00:00Z'),
    }) as [Job];
    const fire = new Date('2026-11-23T10:00:00Z');
    // The bucket refuses the run's manifest, so the real startRun fails for this job only.
    const brokenRun = runKeys.prefix(scheduledRunId(job, fire));
    oss.emulator.faults.fail = ({ action, key }) => (action === 'PutObject' && key.startsWith(brokenRun) ? 'InternalError' : undefined);
    const started: { job: string; fireTime: string; runId: string }[] = [];
    const tick = () => runTimerJobs({ jobs: [job, other], store, now: fire, lookbackSeconds: 30, startJobRun: realStart(store, started), logger });

    try {
      const out = await tick();
      expect(out.fired.map((f) => f.job)).toEqual([other.name]);
      expect(out.skipped).toEqual([{ job: job.name, fireTime: fire, reason: 'start-failed' }]);
      const marker = await readFireMarker(store, job.name, fire);
      expect(marker?.status).toBe('failed');
      expect(marker?.error).toMatch(/StoreError/);
      expect(logLines.some((l) => l.includes('a run failed to start') && l.includes(job.name))).toBe(true);
    } finally {
      oss.emulator.faults.fail = undefined;
    }

    const again = await tick();
    expect(again.fired).toEqual([]);
    expect(started.filter((s) => s.job === job.name)).toHaveLength(1);
  });
});
