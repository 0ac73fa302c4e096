/** A scheduled job fires from the schedule function's timer and its run ends in a summary; a second tick does not fire it again. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '../../shared/runs/keys.ts';
import type { RunSummary } from '../../shared/runs/summary.ts';
import { fleetOf, startPipelineCloud, waitForObject, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

let pc: PipelineCloud;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-jobs-'));
  // rate(1m) is anchored at the epoch: a fire time always lies within the last minute of the 5-minute lookback.
  await writeFile(path.join(dir, 'jobs.yaml'), 'jobs:\n  - name: minutely-uptime\n    command: uptime\n    targets: { tags: { env: sched } }\n    frequency: rate(1m)\n    timeout: 30\n');
  pc = await startPipelineCloud(fleetOf('sched', [{ name: 'web', count: 3 }]), { chat: { FLEETRUN_JOBS_FILE: path.join(dir, 'jobs.yaml') } });
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scheduled jobs', () => {
  it('a timer tick fires the due job once and its run is summarized', async () => {
    const tick = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { jobs: { fired: { job: string; runId: string }[] } };
    expect(tick.jobs.fired.length).toBeGreaterThanOrEqual(1);
    expect(tick.jobs.fired.every((f) => f.job === 'minutely-uptime')).toBe(true);
    const runId = tick.jobs.fired.at(-1)!.runId;
    const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(runId), 30_000)).toString()) as RunSummary;
    expect(summary.counts.byStatus).toEqual({ Success: 3 });
    expect(summary.requestedBy).toEqual({ kind: 'schedule', user: 'job:minutely-uptime' });
    const calls = pc.cloud.ecs.calls.RunCommand;
    const again = (await pc.cloud.fc!.fireTimer('fleetrun-schedule')) as { jobs: { fired: { runId: string }[] } };
    // A second tick within the same minute finds the fire times already claimed.
    expect(again.jobs.fired.filter((f) => tick.jobs.fired.some((t) => t.runId === f.runId))).toEqual([]);
    expect(pc.cloud.ecs.calls.RunCommand! - calls!).toBe(again.jobs.fired.length);
  }, 60_000);

  it("a tick is the trigger's: a firing delivered late fires what was due at its triggerTime, not at the time it ran", async () => {
    // An hour ago, on the minute, as FC writes it (reference §5.4): far outside the lookback of now.
    const triggerTime = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
    const tick = (await pc.cloud.fc!.invoke('fleetrun-schedule', { triggerTime: triggerTime.toISOString().replace(/\.\d{3}Z$/, 'Z'), triggerName: 'every-minute', payload: '{"task":"reconcile"}' })) as {
      jobs: { fired: { job: string; fireTime: string }[] };
    };
    const fireTimes = tick.jobs.fired.map((f) => Date.parse(f.fireTime));
    expect(fireTimes.length).toBeGreaterThanOrEqual(1);
    // The jobs tick's lookback is 300 s, taken back from the trigger's time.
    expect(fireTimes.every((t) => t <= triggerTime.getTime() && t > triggerTime.getTime() - 300_000)).toBe(true);
  }, 60_000);
});
