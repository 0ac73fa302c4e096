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
 *
 * The local cloud hands events on at once unless told otherwise; the real services' delays are
 * undocumented. `sweepDelays` runs (a) against (c) with the delays of EventBridge, event streaming
 * and Cloud Assistant's output objects assumed at several values, and finds where events stop
 * beating the poller at p50.
 */
import type { RunSummary } from '../shared/runs/summary.ts';
import { runKeys } from '../shared/runs/keys.ts';
import { describeDelay, type DelayDistribution } from '../local/delay-distribution.ts';
import { seededRandom } from '../local/seeded-random.ts';
import { startPipelineCloud, waitForObject, type PipelineCloud } from '../local/cli/harness/pipeline-cloud.ts';
import { LOCAL_INSTANCES_PER_FUNCTION } from '../local/local-cloud.ts';
import { ossWriteTimes } from './oss-writes.ts';
import { pollRun } from './poller.ts';
import { resultStoredTimes } from './result-times.ts';

export interface EventsVsPollingInputs {
  instances: number;
  minSeconds: number;
  maxSeconds: number;
  failRate: number;
  /** Durations and the poll interval are divided by this (1 = real time). */
  timeScale: number;
  pollSeconds: number;
  seed: number;
  /** Instances of each event-path function started before the run (default: as many as the host allows); a smoke run needs fewer. */
  warmInstances?: number;
}

/** The cloud's own delays the local cloud models (LocalCloudOptions.delays); none when absent. */
export interface AssumedDelays {
  eventBridge: DelayDistribution;
  eventStreaming: DelayDistribution;
  outputObject: DelayDistribution;
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
  /** The task-events trigger's batch window as the local cloud read it from s.yaml (none: one event per push). */
  batchWindow: { CountBasedWindow?: number; TimeBasedWindow?: number } | null;
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

/**
 * A local cloud that notes when each result object and the summary land in OSS. Its event path is
 * warm, as a deployment in use is (the poller has no cold start either): as many empty invocations
 * at once as the host allows instances start every task-events and summarize instance first.
 */
async function observedCloud(inputs: EventsVsPollingInputs, functionEnv: Record<string, string> = {}, delays?: AssumedDelays): Promise<{ pc: PipelineCloud; written: Map<string, number> }> {
  const { log, written } = ossWriteTimes();
  const pc = await startPipelineCloud(fleetYaml(inputs), { functionEnv, log, ...(delays ? { delays: { ...delays, seed: inputs.seed } } : {}) });
  const fc = pc.cloud.fc!;
  const warm = inputs.warmInstances ?? LOCAL_INSTANCES_PER_FUNCTION;
  await Promise.all(['fleetrun-task-events', 'fleetrun-summarize'].flatMap((fn) => Array.from({ length: warm }, () => fc.invoke(fn, []))));
  return { pc, written };
}

async function measure(pc: PipelineCloud, written: Map<string, number>, runId: string, started: number, readCalls?: number): Promise<ModeResult> {
  const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(runId), 60_000)).toString()) as RunSummary;
  const latencies: number[] = [];
  let lastFinish = 0;
  const stored = await resultStoredTimes(pc.store, written, runId);
  for (const e of pc.cloud.ecs.agents.executionLog) {
    const finished = e.finishedAt!.getTime();
    lastFinish = Math.max(lastFinish, finished);
    const at = stored.get(e.instanceId);
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
  // fleetrun's fetch interval is the poll interval's counterpart: it is scaled the same way.
  const fetchIntervalMs = Math.round(FETCH_INTERVAL_MS / inputs.timeScale);
  const clouds = await Promise.all([observedCloud(inputs), observedCloud(inputs, { FLEETRUN_FETCH_INTERVAL_MS: String(fetchIntervalMs) }), observedCloud(inputs)]);
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
      batchWindow: taskEventsBatchWindow(a.pc),
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

function taskEventsBatchWindow(pc: PipelineCloud): EventsVsPollingResult['batchWindow'] {
  const fn = pc.cloud.sYaml?.functions.find((f) => f.props.functionName === 'fleetrun-task-events');
  const config = fn?.props.triggers.find((t) => t.triggerType === 'eventbridge')?.triggerConfig as { runOptions?: { batchWindow?: { CountBasedWindow?: number; TimeBasedWindow?: number } } } | undefined;
  return config?.runOptions?.batchWindow ?? null;
}

/** One assumed delay: (a) events with outputs in OSS against (c) the poller, side by side. */
export interface DelayPoint {
  delayMs: number;
  /** What each of the three delays was drawn from (describeDelay's form). */
  distribution: string;
  /** (c) p50 ÷ (a) p50. */
  p50LatencyRatio: number;
  eventReadCalls: number;
  pollReadCalls: number;
  eventLatency: LatencyStats;
  pollLatency: LatencyStats;
  summaries: { events: ModeResult['summary']; poll: ModeResult['summary'] };
}

export interface DelaySweepResult {
  inputs: EventsVsPollingInputs;
  /** How each delay is drawn at a point of `delayMs` d. */
  distribution: string;
  points: DelayPoint[];
  /** Where (a)'s p50 meets (c)'s, interpolated linearly between the points it falls between; 0 if events lose already at the first, null if they win at every point. */
  breakEvenDelayMs: number | null;
}

/**
 * The sweep's assumption at delay d: each of the three delays lognormal with median d and p95 2d
 * (σ ≈ 0.42: a queue's latency, right-skewed, its tail within a few times its median), drawn
 * independently per event, message and object; 0 is no delay at all.
 */
export function assumedDelayAt(delayMs: number): DelayDistribution {
  return delayMs <= 0 ? { kind: 'fixed', ms: 0 } : { kind: 'lognormal', medianMs: delayMs, p95Ms: 2 * delayMs };
}
export const ASSUMED_DELAY_SHAPE = 'lognormal, median d and p95 2d, for each of EventBridge, event streaming and the output object (none at d = 0)';

/**
 * The delay at which events stop beating the poller at p50: where (a)'s p50 minus (c)'s turns from
 * negative to non-negative, interpolated linearly between the two measured points around it.
 */
export function breakEvenDelayMs(points: { delayMs: number; eventP50Ms: number; pollP50Ms: number }[]): number | null {
  const sorted = [...points].sort((x, y) => x.delayMs - y.delayMs);
  if (sorted.length === 0) return null;
  const gap = (p: (typeof sorted)[number]) => p.eventP50Ms - p.pollP50Ms;
  if (gap(sorted[0]!) >= 0) return sorted[0]!.delayMs;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [lo, hi] = [sorted[i]!, sorted[i + 1]!];
    if (gap(hi) < 0) continue;
    return lo.delayMs + ((0 - gap(lo)) * (hi.delayMs - lo.delayMs)) / (gap(hi) - gap(lo));
  }
  return null;
}

/** (a) and (c) at one assumed delay; the delays are the local cloud's, the same for both clouds (the poller's path crosses none of them). */
async function eventsAgainstPoller(inputs: EventsVsPollingInputs, delays: AssumedDelays): Promise<{ events: ModeResult; poll: ModeResult }> {
  const clouds = await Promise.all([observedCloud(inputs, {}, delays), observedCloud(inputs, {}, delays)]);
  const [a, c] = clouds;
  try {
    const command = { name: 'evp', type: 'RunShellScript' as const, script: SCRIPT, timeoutSeconds: 3600 };
    const started = Date.now();
    const pollRunId = 'r-20261123t000000-poll00';
    const [runA, polled] = await Promise.all([
      a.pc.run({ command, targets: { tags: { env: 'evp' } }, requestedBy: { kind: 'cli', user: 'bench' } }, { outputBucket: true }),
      pollRun(
        { runId: pollRunId, name: 'evp', script: SCRIPT, timeoutSeconds: 3600, instanceIds: [...c.pc.cloud.ecs.fleet.keys()], intervalMs: (inputs.pollSeconds * 1000) / inputs.timeScale },
        { assistant: c.pc.assistant, store: c.pc.store, regionId: 'cn-hangzhou' },
      ),
    ]);
    const [events, poll] = await Promise.all([measure(a.pc, a.written, runA.runId, started), measure(c.pc, c.written, pollRunId, started, polled.readCalls)]);
    return { events, poll };
  } finally {
    await Promise.all(clouds.map(({ pc }) => pc.close()));
  }
}

/** (a) against (c) at each assumed delay in turn (ms), each of the three delays drawn from `distributionOf(d)`. */
export async function sweepDelays(inputs: EventsVsPollingInputs, delaysMs: number[], distributionOf: (delayMs: number) => DelayDistribution = assumedDelayAt): Promise<DelaySweepResult> {
  const points: DelayPoint[] = [];
  for (const delayMs of delaysMs) {
    const d = distributionOf(delayMs);
    const { events, poll } = await eventsAgainstPoller(inputs, { eventBridge: d, eventStreaming: d, outputObject: d });
    points.push({
      delayMs,
      distribution: describeDelay(d),
      p50LatencyRatio: poll.resultLatency.p50Ms / events.resultLatency.p50Ms,
      eventReadCalls: events.readCalls,
      pollReadCalls: poll.readCalls,
      eventLatency: events.resultLatency,
      pollLatency: poll.resultLatency,
      summaries: { events: events.summary, poll: poll.summary },
    });
  }
  return {
    inputs,
    distribution: ASSUMED_DELAY_SHAPE,
    points,
    breakEvenDelayMs: breakEvenDelayMs(points.map((p) => ({ delayMs: p.delayMs, eventP50Ms: p.eventLatency.p50Ms, pollP50Ms: p.pollLatency.p50Ms }))),
  };
}
