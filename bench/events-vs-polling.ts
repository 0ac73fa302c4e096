/**
 * Events vs polling: one fleet, one command, three ways, side by side (three local clouds at once,
 * so they share the machine's conditions):
 *   (a) fleetrun's event path, outputs delivered to OSS (OssOutputDelivery);
 *   (b) fleetrun's event path, outputs fetched from the API (no output bucket);
 *   (c) a poller: DescribeInvocations with IncludeOutput every few seconds per InvokeId.
 * Each instance sleeps for a duration drawn log-uniformly (its name carries it, so the command is
 * the same everywhere) and a tenth of them fail. Durations and the poll interval may be divided by
 * a time scale. Measured: ECS read calls (DescribeInvocations + DescribeInvocationResults), the
 * latency from each script's end to its result object in OSS, and from the last end to the summary.
 */
import type { RunSummary } from '../shared/runs/summary.ts';
import { runKeys } from '../shared/runs/keys.ts';
import { seededRandom } from '../local/seeded-random.ts';
import { startPipelineCloud, waitForObject, type PipelineCloud } from '../local/cli/harness/pipeline-cloud.ts';
import { ossWriteTimes } from './oss-writes.ts';
import { pollRun } from './poller.ts';

export interface EventsVsPollingInputs {
  instances: number;
  minSeconds: number;
  maxSeconds: number;
  failRate: number;
  /** Durations and the poll interval are divided by this (1 = real time). */
  timeScale: number;
  pollSeconds: number;
  seed: number;
}

export interface LatencyStats {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface ModeResult {
  readCalls: number;
  callsByAction: Record<string, number>;
  resultLatency: LatencyStats;
  summaryLatencyMs: number;
  summary: { total: number; failed: number; succeeded: number };
  seconds: number;
}

export interface EventsVsPollingResult {
  inputs: EventsVsPollingInputs & { fetchIntervalSeconds: number };
  oss: ModeResult;
  fetch: ModeResult;
  poll: ModeResult;
  eventReadCalls: number;
  p50LatencyRatio: number;
  fetchModeReadCallsRatio: number;
  fetchModeP50LatencyRatio: number;
}

const READS = ['DescribeInvocations', 'DescribeInvocationResults'] as const;
/** task-events' default FLEETRUN_FETCH_INTERVAL_MS, before scaling. */
const FETCH_INTERVAL_MS = 5000;

const SCRIPT = `set -- $(echo "{{ACS::InstanceName}}" | tr '-' ' ')
sleep "$2"
echo "slept $2 s on {{ACS::InstanceName}}"
if [ "$3" = bad ]; then echo "failing as planned" >&2; exit 3; fi`;

/** Instance names carry the (scaled) duration and the planned outcome: `w-12.345-ok`. */
function fleetYaml(inputs: EventsVsPollingInputs): string {
  const random = seededRandom(inputs.seed);
  const ratio = inputs.maxSeconds / inputs.minSeconds;
  const failing = Math.round(inputs.instances * inputs.failRate);
  const lines = Array.from({ length: inputs.instances }, (_, n) => {
    const seconds = (inputs.minSeconds * ratio ** random()) / inputs.timeScale;
    return `  - { id: i-evp${String(n).padStart(6, '0')}, name: w-${seconds.toFixed(3)}-${n % Math.round(inputs.instances / failing) === 0 ? 'bad' : 'ok'}, tags: { env: evp } }`;
  });
  return `instances:\n${lines.join('\n')}\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A local cloud that notes when each result object and the summary land in OSS. */
async function observedCloud(yaml: string, functionEnv: Record<string, string> = {}): Promise<{ pc: PipelineCloud; written: Map<string, number> }> {
  const { log, written } = ossWriteTimes();
  const pc = await startPipelineCloud(yaml, { functionEnv, log });
  return { pc, written };
}

async function measure(pc: PipelineCloud, written: Map<string, number>, runId: string, started: number, readCalls?: number): Promise<ModeResult> {
  const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(runId), 60_000)).toString()) as RunSummary;
  const latencies: number[] = [];
  let lastFinish = 0;
  for (const e of pc.cloud.ecs.agents.executionLog) {
    const finished = e.finishedAt!.getTime();
    lastFinish = Math.max(lastFinish, finished);
    const at = written.get(runKeys.result(runId, e.instanceId));
    if (at === undefined) throw new Error(`no result object for ${e.instanceId} in run ${runId}`);
    latencies.push(at - finished);
  }
  latencies.sort((x, y) => x - y);
  const callsByAction = Object.fromEntries(Object.entries(pc.cloud.ecs.calls).filter(([, n]) => n > 0));
  return {
    readCalls: readCalls ?? READS.reduce((n, a) => n + (pc.cloud.ecs.calls[a] ?? 0), 0),
    callsByAction,
    resultLatency: { p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), maxMs: latencies.at(-1)! },
    summaryLatencyMs: written.get(runKeys.summaryJson(runId))! - lastFinish,
    summary: { total: summary.counts.total, failed: summary.counts.byClass.failed, succeeded: summary.counts.byClass.success },
    seconds: (written.get(runKeys.summaryJson(runId))! - started) / 1000,
  };
}

export async function benchEventsVsPolling(inputs: EventsVsPollingInputs): Promise<EventsVsPollingResult> {
  const yaml = fleetYaml(inputs);
  // fleetrun's fetch interval is the poll interval's counterpart: it is scaled the same way.
  const fetchIntervalMs = Math.round(FETCH_INTERVAL_MS / inputs.timeScale);
  const clouds = await Promise.all([observedCloud(yaml), observedCloud(yaml, { FLEETRUN_FETCH_INTERVAL_MS: String(fetchIntervalMs) }), observedCloud(yaml)]);
  const [a, b, c] = clouds;
  try {
    const command = { name: 'evp', type: 'RunShellScript' as const, script: SCRIPT, timeoutSeconds: 3600 };
    const request = { command, targets: { tags: { env: 'evp' } }, requestedBy: { kind: 'cli' as const, user: 'bench' } };
    const started = Date.now();
    const ids = [...c.pc.cloud.ecs.fleet.keys()];
    const pollRunId = 'r-20261123t000000-poll00';
    const [runA, runB, polled] = await Promise.all([
      a.pc.run(request, { outputBucket: true }),
      b.pc.run(request, { outputBucket: false }),
      pollRun(
        { runId: pollRunId, name: 'evp', script: SCRIPT, timeoutSeconds: 3600, instanceIds: ids, intervalMs: (inputs.pollSeconds * 1000) / inputs.timeScale },
        { assistant: c.pc.assistant, store: c.pc.store, regionId: 'cn-hangzhou' },
      ),
    ]);
    const [oss, fetch, poll] = await Promise.all([
      measure(a.pc, a.written, runA.runId, started),
      measure(b.pc, b.written, runB.runId, started),
      measure(c.pc, c.written, pollRunId, started, polled.readCalls),
    ]);
    return {
      inputs: { ...inputs, fetchIntervalSeconds: FETCH_INTERVAL_MS / 1000 },
      oss,
      fetch,
      poll,
      eventReadCalls: oss.readCalls,
      p50LatencyRatio: poll.resultLatency.p50Ms / oss.resultLatency.p50Ms,
      fetchModeReadCallsRatio: poll.readCalls / fetch.readCalls,
      fetchModeP50LatencyRatio: poll.resultLatency.p50Ms / fetch.resultLatency.p50Ms,
    };
  } finally {
    await Promise.all(clouds.map(({ pc }) => pc.close()));
  }
}
