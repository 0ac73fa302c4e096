/**
 * The event path's billable units, measured: fleetrun runs a command on N synthetic instances of the
 * local cloud, with the deployment's own s.yaml (its sizes and trigger batch windows, whatever they
 * are today), and every service counts what it served — FC invocations and execution time per
 * function (fc-probe.ts), TaskCompleted events on the bus, events the event stream handed to
 * summarize, MNS and OSS requests (request-log.ts), Cloud Assistant's delivered output objects
 * (PUTs into the output bucket the local cloud writes without a request), ECS calls by action.
 *
 * Counting starts once the cloud is up and ends when it is quiet: the summary is written and
 * nothing has been requested for a while. Then one reconciler firing (the schedule function's
 * per-minute timer) is measured on its own: it runs whatever the run, once a minute.
 */
import { runKeys } from '../../shared/runs/keys.ts';
import { fleetOf, startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { installFcProbe, type FcProbe, type FunctionTimes } from './fc-probe.ts';
import { functionSize, type FunctionSize } from './function-size.ts';
import { cloneCounts, countLine, countsBetween, emptyCounts, type RequestCounts } from './request-log.ts';

export interface FunctionSample {
  invocations: number;
  activeSeconds: number;
  /** Instances the local host started (bounded by its own per-function limit, not FC's). */
  instances: number;
}

export interface ServiceSample {
  functions: Record<string, FunctionSample>;
  requests: RequestCounts;
  ecsCalls: Record<string, number>;
}

export interface EventPathSample extends ServiceSample {
  instances: number;
  /** startRun's wall time: dispatch's work in the deployment (the harness runs it in-process). */
  dispatchSeconds: number;
  systemBusEvents: number;
  eventStreamEvents: number;
  /** Cloud Assistant's output objects written into the output bucket (PUTs the bucket owner pays). */
  deliveredOutputs: number;
  /** From the run's start to its summary. */
  seconds: number;
}

export interface EventPathMeasurement {
  run: EventPathSample;
  /** Firings of the schedule function's timer, each measured on its own after the run. */
  reconcilerFirings: ServiceSample[];
  sizes: Record<string, FunctionSize>;
  /** Each event-triggered function's trigger batch window, as s.yaml gives it (absent: none). */
  batchWindows: Record<string, unknown>;
}

export interface MeasureOptions {
  functionsMode?: 'source' | 'bundle';
  /** How long the first synthetic script runs (event-path units do not depend on it). */
  scriptMs?: number;
  /**
   * Scripts end this many a second, one after another (default: all at once). The rate sets how
   * full the trigger's batch windows get and how busy the local machine is while timing invocations.
   */
  arrivalPerSecond?: number;
  /** How long the cloud must be quiet before counting stops. */
  quietMs?: number;
  /** Reconciler firings to measure after the run (the first may start the function's instance). */
  timerFirings?: number;
}

const RUNS_BUCKET = 'fleetrun-runs';
const OUTPUT_BUCKET = 'fleetrun-output';
const SCHEDULE = 'fleetrun-schedule';
const FLEET = 'cost';

/** An instance's place in the fleet: fleetOf names them i-<prefix>NNNNNN. */
function fleetIndex(instanceId: string): number {
  return Number(instanceId.slice(`i-${FLEET}`.length));
}

interface Snapshot {
  requests: RequestCounts;
  ecs: Record<string, number>;
  fc: Record<string, FunctionTimes>;
  coldStarts: Record<string, number>;
  busEvents: number;
  streamEvents: number;
}

function diffRecord(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v !== 0));
}

function between(a: Snapshot, b: Snapshot): ServiceSample & { busEvents: number; streamEvents: number } {
  const functions: Record<string, FunctionSample> = {};
  for (const [name, t] of Object.entries(b.fc)) {
    const before = a.fc[name] ?? { invocations: 0, activeMs: 0 };
    const invocations = t.invocations - before.invocations;
    if (invocations > 0) functions[name] = { invocations, activeSeconds: (t.activeMs - before.activeMs) / 1000, instances: (b.coldStarts[name] ?? 0) - (a.coldStarts[name] ?? 0) };
  }
  return { functions, requests: countsBetween(a.requests, b.requests), ecsCalls: diffRecord(a.ecs, b.ecs), busEvents: b.busEvents - a.busEvents, streamEvents: b.streamEvents - a.streamEvents };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once no request was logged and no invocation ran for `quietMs`. */
async function quiet(counts: RequestCounts, probe: FcProbe, quietMs: number, within: number): Promise<void> {
  const total = () => counts.ossPut + counts.ossGet + counts.mnsRequests;
  let last = total();
  let since = Date.now();
  await until(
    () => {
      const now = total();
      if (now !== last || probe.inFlight > 0) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    within,
    'the local cloud to go quiet',
  );
}

function batchWindows(pc: PipelineCloud): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of pc.cloud.sYaml?.functions ?? []) {
    for (const t of f.props.triggers) {
      if (t.triggerType !== 'eventbridge') continue;
      const runOptions = (t.triggerConfig as { runOptions?: { batchWindow?: unknown } }).runOptions;
      out[`${f.props.functionName}/${t.triggerName}`] = runOptions?.batchWindow ?? null;
    }
  }
  return out;
}

export async function measureEventPath(instances: number, options: MeasureOptions = {}): Promise<EventPathMeasurement> {
  const counts = emptyCounts();
  const probe = installFcProbe();
  let pc: PipelineCloud | undefined;
  try {
    const scriptMs = options.scriptMs ?? 1000;
    const gapMs = options.arrivalPerSecond ? 1000 / options.arrivalPerSecond : 0;
    pc = await startPipelineCloud(fleetOf(FLEET, [{ name: 'cost', count: instances }]), {
      log: (line) => countLine(counts, line),
      functionsMode: options.functionsMode ?? 'bundle',
      ecs: { synthetic: ({ instanceId }) => ({ durationMs: scriptMs + Math.floor(fleetIndex(instanceId) * gapMs), exitCode: 0, output: `checked ${instanceId}: ok\n` }) },
    });
    const cloud = pc.cloud;
    const fc = cloud.fc!;
    let busEvents = 0;
    cloud.ecs.events.subscribe(() => void busEvents++);
    const snapshot = (): Snapshot => ({
      requests: cloneCounts(counts),
      ecs: { ...cloud.ecs.calls },
      fc: probe.snapshot(),
      coldStarts: Object.fromEntries([...fc.functions].map(([name, f]) => [name, f.stats.coldStarts])),
      busEvents,
      streamEvents: fc.sources.reduce((n, s) => n + s.counts.delivered, 0),
    });

    const before = snapshot();
    const started = performance.now();
    const manifest = await pc.run({ command: { name: 'cost', type: 'RunShellScript', script: 'echo ok', timeoutSeconds: 600 }, targets: { tags: { env: FLEET } }, requestedBy: { kind: 'cli', user: 'bench' } }, { outputBucket: true });
    const dispatchSeconds = (performance.now() - started) / 1000;
    // Read from the store itself: a GET through OSS would be counted.
    await until(() => cloud.oss.store.head(RUNS_BUCKET, runKeys.summaryJson(manifest.runId)) !== undefined, 60_000 + instances * 50, `the summary of ${instances} instances`);
    const seconds = (performance.now() - started) / 1000;
    await quiet(counts, probe, options.quietMs ?? 2000, 60_000);
    const run = between(before, snapshot());
    const deliveredOutputs = cloud.oss.store.list(OUTPUT_BUCKET).length;

    const reconcilerFirings: ServiceSample[] = [];
    for (let i = 0; i < (options.timerFirings ?? 2); i++) {
      const beforeFiring = snapshot();
      await fc.fireTimer(SCHEDULE);
      await quiet(counts, probe, options.quietMs ?? 2000, 60_000);
      const firing = between(beforeFiring, snapshot());
      reconcilerFirings.push({ functions: firing.functions, requests: firing.requests, ecsCalls: firing.ecsCalls });
    }

    const sizes = Object.fromEntries((cloud.sYaml?.functions ?? []).map((f) => [f.props.functionName, functionSize(f.props)]));
    return {
      run: {
        instances,
        functions: run.functions,
        requests: { ...run.requests, ossPut: run.requests.ossPut + deliveredOutputs },
        ecsCalls: run.ecsCalls,
        dispatchSeconds,
        systemBusEvents: run.busEvents,
        eventStreamEvents: run.streamEvents,
        deliveredOutputs,
        seconds,
      },
      reconcilerFirings,
      sizes,
      batchWindows: batchWindows(pc),
    };
  } finally {
    await pc?.close();
    probe.uninstall();
  }
}
