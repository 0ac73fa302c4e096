/**
 * The task-events trigger's batch window, measured: the same pipeline (task-events → MNS →
 * summarize → the summary in OSS, the built bundles, the deployment's s.yaml with only the window
 * changed) at several CountBasedWindow × TimeBasedWindow settings, two ways each:
 *   burst   — every instance finishes at once (bench/pipeline.ts's load): what a window saves;
 *   trickle — instances finish spread evenly over a few seconds (a few dozen a second): what a
 *             window costs a result that arrives alone.
 * Measured: task-events invocations, and the latency from each script's end to its result object
 * in OSS (p50, p95). The window that keeps invocations low in the burst without raising the
 * trickle's p50 is the default s.yaml states.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKeys } from '../shared/runs/keys.ts';
import type { RunSummary } from '../shared/runs/summary.ts';
import { fleetOf, startPipelineCloud, waitForObject } from '../local/cli/harness/pipeline-cloud.ts';
import { LOCAL_INSTANCES_PER_FUNCTION, PROJECT_ROOT } from '../local/local-cloud.ts';
import { seededRandom } from '../local/seeded-random.ts';
import { ossWriteTimes } from './oss-writes.ts';
import { resultStoredTimes } from './result-times.ts';

export interface Window {
  count: number;
  seconds: number;
}

export interface WindowLoad {
  instances: number;
  /** Scripts end spread evenly over this long (0: all at once). */
  spreadMs: number;
}

export interface WindowMeasurement {
  window: Window;
  load: WindowLoad;
  taskEventsInvocations: number;
  summarizeInvocations: number;
  resultLatency: { p50Ms: number; p95Ms: number };
  /** First script end → summary.json. */
  seconds: number;
}

/** s.yaml with the task-completed trigger's batch window set, its relative paths made absolute so it can live elsewhere. */
async function sYamlWith(window: Window, dir: string): Promise<string> {
  const text = await readFile(path.join(PROJECT_ROOT, 's.yaml'), 'utf8');
  const trigger = text.indexOf('- triggerName: task-completed');
  const end = text.indexOf('\n\n', trigger);
  if (trigger < 0 || end < 0) throw new Error('s.yaml has no task-completed trigger');
  const section = text.slice(trigger, end).replace(/\n {12}runOptions:\n(?: {14}.*\n?)*/, '\n');
  const withWindow = `${section.trimEnd()}\n            runOptions:\n              batchWindow:\n                CountBasedWindow: ${window.count}\n                TimeBasedWindow: ${window.seconds}`;
  const variant = (text.slice(0, trigger) + withWindow + text.slice(end)).replaceAll(/(['(: ])\.\/(deploy|dist)\//g, `$1${PROJECT_ROOT}/$2/`);
  const file = path.join(dir, `s.window-${window.count}-${window.seconds}.yaml`);
  await writeFile(file, variant);
  return file;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function measureWindow(window: Window, load: WindowLoad, seed = 11): Promise<WindowMeasurement> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-batch-window-'));
  const { log, written } = ossWriteTimes();
  const random = seededRandom(seed);
  let first: number | undefined;
  try {
    const pc = await startPipelineCloud(fleetOf('bw', [{ name: 'bw', count: load.instances }]), {
      sYamlPath: await sYamlWith(window, dir),
      functionsMode: 'bundle',
      log,
      ecs: {
        // Every script ends at its planned moment after the first one starts.
        synthetic: ({ instanceId }) => {
          first ??= Date.now();
          const endsAt = first + 2000 + (load.spreadMs > 0 ? random() * load.spreadMs : 0);
          return { durationMs: Math.max(0, endsAt - Date.now()), exitCode: 0, output: `checked ${instanceId}: ok\n` };
        },
      },
    });
    try {
      const fns = pc.cloud.fc!.functions;
      const taskEvents = fns.get('fleetrun-task-events')!;
      const summarize = fns.get('fleetrun-summarize')!;
      // A deployment in use has warm instances: the window's cost is measured without cold starts.
      // As many empty invocations at once as the host allows instances start each function's instances.
      await Promise.all([taskEvents, summarize].flatMap((fn) => Array.from({ length: LOCAL_INSTANCES_PER_FUNCTION }, () => pc.cloud.fc!.invoke(fn.options.functionName, []))));
      const before = { taskEvents: taskEvents.stats.invocations, summarize: summarize.stats.invocations };
      const manifest = await pc.run({ command: { name: 'bw', type: 'RunShellScript', script: 'echo ok', timeoutSeconds: 600 }, targets: { tags: { env: 'bw' } }, requestedBy: { kind: 'cli', user: 'bench' } }, { outputBucket: true });
      const summary = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(manifest.runId), 600_000)).toString()) as RunSummary;
      if (summary.counts.total !== load.instances || summary.counts.byClass.success !== load.instances) throw new Error(`window ${window.count}/${window.seconds}s: summary counts ${JSON.stringify(summary.counts)}`);
      const latencies: number[] = [];
      let firstEnd = Number.POSITIVE_INFINITY;
      const stored = await resultStoredTimes(pc.store, written, manifest.runId);
      for (const e of pc.cloud.ecs.agents.executionLog) {
        const ended = e.finishedAt!.getTime();
        firstEnd = Math.min(firstEnd, ended);
        const at = stored.get(e.instanceId);
        if (at === undefined) throw new Error(`no result object for ${e.instanceId}`);
        latencies.push(at - ended);
      }
      latencies.sort((a, b) => a - b);
      return {
        window,
        load,
        taskEventsInvocations: taskEvents.stats.invocations - before.taskEvents,
        summarizeInvocations: summarize.stats.invocations - before.summarize,
        resultLatency: { p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) },
        seconds: (written.get(runKeys.summaryJson(manifest.runId))! - firstEnd) / 1000,
      };
    } finally {
      await pc.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const WINDOWS: Window[] = [
  { count: 1, seconds: 0 },
  { count: 100, seconds: 0 },
  { count: 1000, seconds: 0 },
  { count: 100, seconds: 1 },
  { count: 1000, seconds: 1 },
];

export async function benchBatchWindow(options: { burst: number; trickle: number; trickleSpreadMs: number; windows?: Window[] }): Promise<WindowMeasurement[]> {
  const out: WindowMeasurement[] = [];
  for (const window of options.windows ?? WINDOWS) {
    out.push(await measureWindow(window, { instances: options.burst, spreadMs: 0 }));
    out.push(await measureWindow(window, { instances: options.trickle, spreadMs: options.trickleSpreadMs }));
  }
  return out;
}

export function describeBatchWindow(rows: WindowMeasurement[]): string {
  const lines = ['| CountBasedWindow | TimeBasedWindow | load | task-events invocations | summarize invocations | p50 | p95 | first end → summary |', '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    const load = r.load.spreadMs > 0 ? `trickle ${r.load.instances} over ${r.load.spreadMs / 1000} s` : `burst ${r.load.instances}`;
    lines.push(`| ${r.window.count} | ${r.window.seconds} s | ${load} | ${r.taskEventsInvocations} | ${r.summarizeInvocations} | ${r.resultLatency.p50Ms} ms | ${r.resultLatency.p95Ms} ms | ${r.seconds.toFixed(1)} s |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // npx tsx bench/batch-window.ts [burst] [trickle] [spreadSeconds]
  const [burst = 2000, trickle = 300, spread = 10] = process.argv.slice(2).map(Number);
  const rows = await benchBatchWindow({ burst, trickle, trickleSpreadMs: spread * 1000 });
  console.log(describeBatchWindow(rows));
}
