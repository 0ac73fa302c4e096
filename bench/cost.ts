/**
 * What a run costs an operator, event path against the polling baseline, for 10,000 instances whose
 * scripts run 5 minutes: each path's billable units (bench/cost/path-units.ts, from measurements of
 * the local cloud at two sizes) priced by bench/cost/cost-model.ts with bench/cost/prices.ts.
 * `benchCost()` returns the figures and prints a table of both paths.
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { pathCost, type CostLine, type PathCost, type PathUnits } from './cost/cost-model.ts';
import type { FunctionSize } from './cost/function-size.ts';
import { measureEventPath, type EventPathSample, type ServiceSample } from './cost/measure.ts';
import { measurePolling, type PollingSample } from './cost/measure-polling.ts';
import { alongLine, eventPathUnits, pollingUnits, type PollerLayout, type PollingDerivation } from './cost/path-units.ts';
import { PRICES } from './cost/prices.ts';

export interface CostInputs {
  /** The run priced. */
  instances: number;
  scriptSeconds: number;
  pollSeconds: number;
  /** The two event-path sizes measured. */
  sampleSizes: [number, number];
  /**
   * Assumed: over how many seconds the run's TaskCompleted events arrive. The measured runs end
   * their scripts at the same rate (instances ÷ window a second), and FC's instance count is
   * estimated from it.
   */
  arrivalWindowSeconds: number;
  /** The polling run measured for its calls per poll (time-scaled). */
  pollingSample: { instances: number; scriptMs: number; pollMs: number };
  /** Reconciler firings measured after the run. */
  timerFirings: number;
  functionsMode: 'source' | 'bundle';
  /** The headline's baseline; the other layout is priced too. */
  pollerLayout: PollerLayout;
}

export const DEFAULT_COST_INPUTS: CostInputs = {
  instances: 10_000,
  scriptSeconds: 300,
  pollSeconds: 5,
  sampleSizes: [500, 2000],
  arrivalWindowSeconds: 60,
  pollingSample: { instances: 300, scriptMs: 2000, pollMs: 250 },
  timerFirings: 2,
  functionsMode: 'bundle',
  pollerLayout: 'one function',
};

export interface CostResult {
  eventsCny10k: number;
  pollingCny10k: number;
  /** polling ÷ events. */
  ratioVsPolling: number;
  /** The baseline with the other poller layout, for comparison. */
  pollingOtherLayout: { layout: PollerLayout; cny10k: number };
  units: { events: PathUnits; polling: PathUnits };
  lines: { events: CostLine[]; polling: CostLine[] };
  measured: {
    eventSamples: EventPathSample[];
    reconcilerFirings: ServiceSample[];
    polling: PollingSample;
    batchWindows: Record<string, unknown>;
  };
  polling: Omit<PollingDerivation, 'units'>;
  /** ECS calls a second each path makes while it calls (ECS's per-API limits are not published). */
  ecsCallsPerSecond: { events: { calls: number; seconds: number; perSecond: number }; polling: { calls: number; seconds: number; perSecond: number } };
  inputs: CostInputs;
}

const DISPATCH = 'fleetrun-dispatch';
const TASK_EVENTS = 'fleetrun-task-events';

const cnyFmt = (v: number) => (v === 0 ? '0' : v < 0.0001 ? v.toExponential(2) : v.toFixed(4));
const unitsFmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** A table of one path: line, units, CNY per 10,000 units, CNY. */
export function formatCostTable(title: string, cost: PathCost): string {
  const rows = cost.lines.map((l) => [l.line, `${unitsFmt(l.units)} ${l.unit}`, cnyFmt(l.unitPriceCny * 10_000), cnyFmt(l.cny)]);
  rows.push(['total', '', '', cnyFmt(cost.totalCny)]);
  const head = ['line', 'units', 'CNY per 10k units', 'CNY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [title, fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** The same table in Markdown (for latest.md and docs/cost-model.md). */
export function formatCostMarkdown(cost: { lines: CostLine[]; totalCny: number }): string {
  const rows = cost.lines.map((l) => `| ${l.line} | ${unitsFmt(l.units)} ${l.unit} | ${cnyFmt(l.unitPriceCny * 10_000)} | ${cnyFmt(l.cny)} |`);
  return ['| Line | Units | CNY per 10k units | CNY |', '|---|---:|---:|---:|', ...rows, `| **total** | | | **${cnyFmt(cost.totalCny)}** |`].join('\n');
}

function alongLineOfSamples(samples: EventPathSample[], n: number, pick: (s: EventPathSample) => number): number {
  const [a, b] = samples as [EventPathSample, EventPathSample];
  return alongLine(a.instances, pick(a), b.instances, pick(b), n);
}

function describeSample(s: EventPathSample): string {
  const per = (v: number) => (v / s.instances).toFixed(3);
  const fns = Object.entries(s.functions)
    .map(([name, f]) => `${name.replace('fleetrun-', '')} ${f.invocations} inv (${per(f.invocations)}/instance), ${(f.activeSeconds / f.invocations * 1000).toFixed(1)} ms each`)
    .join('; ');
  return `  N=${s.instances}: ${fns}; OSS PUT ${s.requests.ossPut} (${per(s.requests.ossPut)}), GET ${s.requests.ossGet} (${per(s.requests.ossGet)}); MNS ${s.requests.mnsRequests} (${per(s.requests.mnsRequests)}); stream events ${s.eventStreamEvents}; dispatch ${s.dispatchSeconds.toFixed(2)} s`;
}

export async function benchCost(overrides: Partial<CostInputs> = {}, print: (line: string) => void = console.log): Promise<CostResult> {
  const inputs = { ...DEFAULT_COST_INPUTS, ...overrides };
  const eventSamples: EventPathSample[] = [];
  const reconcilerFirings: ServiceSample[] = [];
  let sizes: Record<string, FunctionSize> = {};
  let batchWindows: Record<string, unknown> = {};
  for (const n of inputs.sampleSizes) {
    // Events arrive as fast as in the run priced: its instances over the arrival window.
    const m = await measureEventPath(n, { functionsMode: inputs.functionsMode, timerFirings: inputs.timerFirings, arrivalPerSecond: inputs.instances / inputs.arrivalWindowSeconds });
    eventSamples.push(m.run);
    reconcilerFirings.push(...m.reconcilerFirings);
    sizes = m.sizes;
    batchWindows = m.batchWindows;
  }
  const pollingSample = await measurePolling(inputs.pollingSample.instances, { scriptMs: inputs.pollingSample.scriptMs, pollMs: inputs.pollingSample.pollMs });

  const keepAliveSeconds = PRICES.fc.keepAliveSeconds.value;
  const shape = { instances: inputs.instances, scriptSeconds: inputs.scriptSeconds, keepAliveSeconds };
  const events = eventPathUnits({
    samples: [eventSamples[0]!, eventSamples[1]!],
    firings: reconcilerFirings,
    sizes,
    dispatchFunction: DISPATCH,
    shape: { ...shape, arrivalWindowSeconds: inputs.arrivalWindowSeconds, timerPeriodSeconds: 60 },
  });
  // The baseline's function is sized like fleetrun's event functions: 512 MB, the console's default.
  const pollerSize = sizes[TASK_EVENTS]!;
  const polled = (layout: PollerLayout) => pollingUnits({ sample: pollingSample, size: pollerSize, shape, pollSeconds: inputs.pollSeconds, layout });
  const polling = polled(inputs.pollerLayout);
  const otherLayout: PollerLayout = inputs.pollerLayout === 'one function' ? 'one function per invocation' : 'one function';
  const other = polled(otherLayout);

  // The event path calls ECS while dispatch runs (targets, then RunCommand); the reconciler's few calls are spread over minutes.
  const dispatchUse = events.functions.find((f) => f.name === DISPATCH)!;
  const dispatchCalls = alongLineOfSamples(eventSamples, inputs.instances, (s) => Object.values(s.ecsCalls).reduce((a, b) => a + b, 0));
  const ecsCallsPerSecond = {
    events: { calls: Math.round(dispatchCalls), seconds: dispatchUse.activeSeconds, perSecond: dispatchUse.activeSeconds > 0 ? dispatchCalls / dispatchUse.activeSeconds : 0 },
    polling: { calls: polling.describeInvocationsCalls, seconds: polling.pollsPerInvocation * inputs.pollSeconds, perSecond: polling.callsPerSecond },
  };

  const eventsCost = pathCost(events);
  const pollingCost = pathCost(polling.units);
  const otherCost = pathCost(other.units);

  print(`cost: a run of ${inputs.instances.toLocaleString('en-US')} instances, ${inputs.scriptSeconds} s scripts (China mainland pay-as-you-go, CNY; free tiers not applied)`);
  print(`  s.yaml batch windows: ${JSON.stringify(batchWindows)}`);
  print('  event path measured at two sizes (per instance in brackets), extended along the line through both:');
  for (const s of eventSamples) print(describeSample(s));
  print(`  polling measured: ${pollingSample.instances} instances, ${pollingSample.invocations} invocations, ${pollingSample.polls} polls, ${pollingSample.describeInvocationsCalls} DescribeInvocations → ${pollingSample.callsPerPollPerInvocation} call per poll per invocation`);
  print(`  polling derived: ${polling.invocations} invocations × (⌊${inputs.scriptSeconds}/${inputs.pollSeconds}⌋ + 1 = ${polling.pollsPerInvocation} polls) × ${pollingSample.callsPerPollPerInvocation} = ${polling.describeInvocationsCalls} DescribeInvocations, ${polling.callsPerSecond.toFixed(1)} calls/s for ${inputs.scriptSeconds} s (ECS's limit is not published)`);
  print(`  ECS calls: event path ${ecsCallsPerSecond.events.calls} in ${ecsCallsPerSecond.events.seconds.toFixed(1)} s of dispatch (${ecsCallsPerSecond.events.perSecond.toFixed(1)}/s, then none but the reconciler's), 0 DescribeInvocations/DescribeInvocationResults; polling ${ecsCallsPerSecond.polling.perSecond.toFixed(1)}/s DescribeInvocations for ${ecsCallsPerSecond.polling.seconds} s`);
  print(formatCostTable('\nevent path', eventsCost));
  print(formatCostTable(`\npolling baseline (${inputs.pollerLayout})`, pollingCost));
  const ratio = pollingCost.totalCny / eventsCost.totalCny;
  print(`\ncost: events ${eventsCost.totalCny.toFixed(4)} CNY, polling ${pollingCost.totalCny.toFixed(4)} CNY → polling ÷ events ${ratio.toFixed(2)} (polling with ${other.units.functions[0]!.name}: ${otherCost.totalCny.toFixed(4)} CNY → ${(otherCost.totalCny / eventsCost.totalCny).toFixed(2)})`);

  const { units: _units, ...derivation } = polling;
  void _units;
  return {
    eventsCny10k: eventsCost.totalCny,
    pollingCny10k: pollingCost.totalCny,
    ratioVsPolling: ratio,
    pollingOtherLayout: { layout: otherLayout, cny10k: otherCost.totalCny },
    units: { events, polling: polling.units },
    lines: { events: eventsCost.lines, polling: pollingCost.lines },
    measured: { eventSamples, reconcilerFirings, polling: pollingSample, batchWindows },
    polling: derivation,
    ecsCallsPerSecond,
    inputs,
  };
}

/** `npx tsx bench/cost.ts [--sizes 500,2000] [--mode source|bundle] [--arrival seconds] [--json out.json]`: the cost benchmark alone (bundles need `npm run build`). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const sizes = arg('sizes')?.split(',').map(Number);
  const mode = arg('mode');
  const json = arg('json');
  const arrival = arg('arrival');
  const result = await benchCost({
    ...(sizes && sizes.length === 2 ? { sampleSizes: [sizes[0]!, sizes[1]!] as [number, number] } : {}),
    ...(mode === 'source' || mode === 'bundle' ? { functionsMode: mode } : {}),
    ...(arrival ? { arrivalWindowSeconds: Number(arrival) } : {}),
  });
  if (json) await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
}
