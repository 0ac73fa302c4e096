/**
 * Pipeline throughput: a run of N synthetic instances that all finish together, so N TaskCompleted
 * events arrive in a burst and go through task-events → MNS → summarize → the summary in OSS, with
 * the deployment's own configuration (s.yaml) and the built bundles. Measured from the first event
 * to summary.json. The cost per event inside task-events is the CPU time its function process
 * spent (the kernel's count for that process alone: handler, SDKs and the FC host's IPC) ÷ events;
 * the same for summarize, and for this process, which is the whole local cloud.
 */
import { runKeys } from '../shared/runs/keys.ts';
import type { RunSummary } from '../shared/runs/summary.ts';
import { fleetOf, startPipelineCloud, waitForObject } from '../local/cli/harness/pipeline-cloud.ts';
import { ossWriteTimes } from './oss-writes.ts';

export interface PipelineResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** CPU µs per event in each function's instances (summed: FC 3.0 scales out), and in the local cloud (this process). */
  usPerEvent: { taskEvents: number; summarize: number; localCloud: number };
  taskEventsInvocations: number;
  summarizeInvocations: number;
  summary: { total: number; succeeded: number };
}

export async function benchPipeline(events: number, options: { outputBucket?: boolean; functionsMode?: 'source' | 'bundle' } = {}): Promise<PipelineResult> {
  const outputBucket = options.outputBucket ?? true;
  const { log, written } = ossWriteTimes(() => performance.now());
  const pc = await startPipelineCloud(fleetOf('pipe', [{ name: 'pipe', count: events }]), {
    log,
    functionsMode: options.functionsMode ?? 'bundle',
    ecs: { synthetic: ({ instanceId }) => ({ durationMs: 2000, exitCode: 0, output: `checked ${instanceId}: ok\n` }) },
  });
  try {
    const fns = pc.cloud.fc!.functions;
    const taskEvents = fns.get('fleetrun-task-events')!;
    const summarize = fns.get('fleetrun-summarize')!;
    let firstEventAt = 0;
    let cpuAtStart = { taskEvents: 0, summarize: 0, localCloud: 0 };
    pc.cloud.ecs.events.subscribe(() => {
      if (firstEventAt) return;
      firstEventAt = performance.now();
      const own = process.cpuUsage();
      cpuAtStart = { taskEvents: taskEvents.cpuUs, summarize: summarize.cpuUs, localCloud: own.user + own.system };
    });
    const manifest = await pc.run({ command: { name: 'pipe', type: 'RunShellScript', script: 'echo ok', timeoutSeconds: 600 }, targets: { tags: { env: 'pipe' } }, requestedBy: { kind: 'cli', user: 'bench' } }, { outputBucket });
    const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(manifest.runId), 600_000)).toString()) as RunSummary;
    const seconds = (written.get(runKeys.summaryJson(manifest.runId))! - firstEventAt) / 1000;
    const own = process.cpuUsage();
    return {
      events,
      seconds,
      eventsPerSecond: events / seconds,
      usPerEvent: {
        taskEvents: (taskEvents.cpuUs - cpuAtStart.taskEvents) / events,
        summarize: (summarize.cpuUs - cpuAtStart.summarize) / events,
        localCloud: (own.user + own.system - cpuAtStart.localCloud) / events,
      },
      taskEventsInvocations: taskEvents.stats.invocations,
      summarizeInvocations: summarize.stats.invocations,
      summary: { total: summary.counts.total, succeeded: summary.counts.byClass.success },
    };
  } finally {
    await pc.close();
  }
}
